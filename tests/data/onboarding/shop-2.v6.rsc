# EasyISP onboarding for router "shop-2" (RouterOS v6)
# RouterOS v6 has NO WireGuard: this router gets no VPN tunnel. RADIUS and the API
# use direct addressing, so the site must reach this router's address and this router
# must reach the site's public address. Upgrade to RouterOS v7 for the tunnel.
/radius
add address=203.0.113.10 secret="Zx8-radius-secret" service=ppp,hotspot authentication-port=1812 accounting-port=1813 timeout=3s comment="easyisp:radius secret-check=92e83db8af9b"
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
add name="easyisp" group=easyisp-api password="Api-pass-2026" address=203.0.113.10/32 comment="easyisp:api"
/ip service
set api address=203.0.113.10/32 disabled=no
/ip firewall filter
add chain=input protocol=tcp dst-port=8728,8729 src-address=203.0.113.10 action=accept comment="easyisp:api-from-site"
add chain=input protocol=udp dst-port=3799 src-address=203.0.113.10 action=accept comment="easyisp:coa-from-site"
add chain=input protocol=tcp dst-port=8728,8729 action=drop comment="easyisp:api-drop"
move [find comment="easyisp:api-drop"] destination=0
move [find comment="easyisp:coa-from-site"] destination=0
move [find comment="easyisp:api-from-site"] destination=0
# Done. The router shows as ONLINE in EasyISP once it reaches the site.
