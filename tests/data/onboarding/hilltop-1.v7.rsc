# EasyISP onboarding for router "hilltop-1" (RouterOS v7)
# Paste into a terminal, or upload the .rsc and run /import file-name=<file>.
# It adds a WireGuard tunnel to the site, the RADIUS client and a restricted API user.
/interface wireguard
add name=wg-easyisp private-key="gLP306E2BCZBeyZ0ILrS5Ubdg4VjkFYiWkg7HpKYM10=" comment="easyisp:vpn"
/interface wireguard peers
add interface=wg-easyisp public-key="hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=" endpoint-address=203.0.113.10 endpoint-port=51820 allowed-address=10.10.0.1/32 persistent-keepalive=25s comment="easyisp:vpn-site"
/ip address
add address=10.10.0.2/16 interface=wg-easyisp comment="easyisp:vpn"
/radius
add address=10.10.0.1 secret="Zx8-radius-secret" service=ppp,hotspot authentication-port=1812 accounting-port=1813 timeout=3s comment="easyisp:radius secret-check=92e83db8af9b"
:do { /radius set [find comment="easyisp:radius secret-check=92e83db8af9b"] require-message-auth=yes-for-request-resp } on-error={ :log warning "EasyISP: this RouterOS has no require-message-auth" }
/radius incoming
set accept=yes port=3799
/ppp aaa
set use-radius=yes accounting=yes interim-update=5m
/ip hotspot profile
set [find] use-radius=yes radius-accounting=yes
/interface pppoe-server server
set [find] authentication=pap,chap,mschap2
/user group
add name=easyisp-api policy=api,read,write,test comment="easyisp:api"
/user
add name="easyisp" group=easyisp-api password="Api-pass-2026" address=10.10.0.1/32 comment="easyisp:api"
/ip service
set api address=10.10.0.1/32 disabled=no
/ip firewall filter
add chain=input protocol=tcp dst-port=8728,8729 src-address=10.10.0.1 action=accept comment="easyisp:api-from-site"
add chain=input protocol=udp dst-port=3799 src-address=10.10.0.1 action=accept comment="easyisp:coa-from-site"
add chain=input protocol=tcp dst-port=8728,8729 action=drop comment="easyisp:api-drop"
move [find comment="easyisp:api-drop"] destination=0
move [find comment="easyisp:coa-from-site"] destination=0
move [find comment="easyisp:api-from-site"] destination=0
# Done. The router shows as ONLINE in EasyISP once it reaches the site.
