"""The portal's HTML: one small page shell (inline CSS, readable at 320 px), the shop, the
waiting page and the automatic router login. Every value is escaped here."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from html import escape
from urllib.parse import urlencode, urlsplit

from easyisp_core.repositories.hotspot_purchases import PackageOffer
from easyisp_core.rules.hotspot_login import HotspotLogin
from easyisp_core.services.stk_purchase import PortalShop
from radius_service.http.portal.texts import LANGUAGES, texts


@dataclass(frozen=True)
class PortalContext:
    """What the router's login page sent (protocols.md §2: $(mac), $(ip),
    $(link-login-only), $(link-orig)) and the language, carried from page to page."""

    tenant: str
    mac: str = ""
    ip: str = ""
    login_url: str = ""
    dst: str = ""
    lang: str = "en"

    @classmethod
    def of(cls, tenant: str, values: dict[str, str]) -> PortalContext:
        login = values.get("login", "")[:500]
        if urlsplit(login).scheme not in ("http", "https"):
            login = ""  # only ever post credentials to a web address
        return cls(
            tenant=tenant,
            mac=values.get("mac", "")[:32],
            ip=values.get("ip", "")[:45],
            login_url=login,
            dst=values.get("dst", "")[:500],
            lang=values.get("lang", "en") if values.get("lang") in LANGUAGES else "en",
        )

    def query(self, **changes: str) -> str:
        ctx = replace(self, **changes)
        return urlencode(
            {
                "mac": ctx.mac,
                "ip": ctx.ip,
                "login": ctx.login_url,
                "dst": ctx.dst,
                "lang": ctx.lang,
            }
        )

    def hidden_fields(self) -> str:
        return "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">'
            for name, value in (
                ("mac", self.mac),
                ("ip", self.ip),
                ("login", self.login_url),
                ("dst", self.dst),
                ("lang", self.lang),
            )
        )


CSS = """
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:16px/1.4 system-ui,sans-serif;color:#222;
background:#f4f5f4}header{background:var(--brand);color:#fff;padding:12px 16px;display:flex;
justify-content:space-between;align-items:center}header h1{font-size:1.15rem;margin:0}
header a{color:#fff;font-size:.9rem;margin-left:8px}main{max-width:480px;margin:0 auto;
padding:12px}section{background:#fff;border-radius:8px;padding:14px;margin:0 0 12px;
box-shadow:0 1px 2px #0002}h2{font-size:1.05rem;margin:0 0 10px}label{display:block;
margin:8px 0 4px;font-weight:600}.pkg{display:flex;align-items:center;gap:10px;padding:10px;
border:1px solid #ccc;border-radius:6px;margin:6px 0;font-weight:400}.pkg b{margin-left:auto}
input[type=tel],input[type=text]{width:100%;font-size:1.05rem;padding:10px;border:1px solid
#999;border-radius:6px}button,.button{display:block;width:100%;margin-top:12px;padding:12px;
font-size:1.05rem;border:0;border-radius:6px;background:var(--brand);color:#fff;
text-align:center;text-decoration:none}.secondary{background:#555}.error{background:#fde8e8;
color:#8a1c1c;padding:10px;border-radius:6px}.status{margin:0;font-size:1.1rem;padding:12px;
border-radius:6px;background:#eef6f1}.status.cancelled,.status.timeout,.status.failed{
background:#fde8e8}footer{text-align:center;font-size:.85rem;color:#555;padding:8px}
"""


def shell(ctx: PortalContext, brand: str, color: str, support: str | None, body: str) -> str:
    t = texts(ctx.lang)
    switch = " ".join(
        f'<a href="?{escape(ctx.query(lang=lang))}" lang="{lang}">{label}</a>'
        for lang, label in (("en", "English"), ("sw", "Kiswahili"))
        if lang != ctx.lang
    )
    footer = f"<footer>{t['help']}: {escape(support)}</footer>" if support else ""
    return (
        f'<!doctype html><html lang="{ctx.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(brand)}</title><style>:root{{--brand:{escape(color)}}}{CSS}</style>"
        f"</head><body><header><h1>{escape(brand)}</h1><nav>{switch}</nav></header>"
        f"<main>{body}</main>{footer}</body></html>"
    )


def _package(offer: PackageOffer, checked: bool) -> str:
    return (
        f'<label class="pkg"><input type="radio" name="package" value="{offer.id}"'
        f"{' checked' if checked else ''} required> {escape(offer.name)}"
        f"<b>KES {offer.price:,.0f}</b></label>"
    )


def shop_page(ctx: PortalContext, shop: PortalShop, error: str | None = None) -> str:
    t = texts(ctx.lang)
    base = f"/portal/{escape(ctx.tenant)}"
    packages = "".join(_package(p, i == 0) for i, p in enumerate(shop.packages))
    buy = (
        f'<form method="post" action="{base}/buy">{ctx.hidden_fields()}'
        f"<h2>{t['choose']}</h2>{packages}"
        f'<label for="phone">{t["phone"]}</label>'
        f'<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" '
        f'placeholder="{t["phone_hint"]}" required>'
        f'<button type="submit" id="pay">{t["pay"]}</button></form>'
        if shop.packages
        else f"<p>{t['no_packages']}</p>"
    )
    voucher = ""
    if ctx.login_url:
        # A voucher is its own username and password: straight to the router's login.
        voucher = (
            f"<section><h2>{t['voucher_title']}</h2>"
            f'<form method="post" action="{escape(ctx.login_url)}" '
            'onsubmit="this.password.value=this.username.value">'
            f'<input type="hidden" name="dst" value="{escape(ctx.dst)}">'
            '<input type="hidden" name="password">'
            f'<label for="voucher">{t["voucher"]}</label>'
            '<input id="voucher" name="username" type="text" autocapitalize="characters" required>'
            f'<button type="submit" class="secondary">{t["connect"]}</button></form></section>'
        )
    paid = (
        f"<section><h2>{t['paid_title']}</h2>"
        f'<form method="post" action="{base}/paid">{ctx.hidden_fields()}'
        f'<label for="receipt">{t["receipt"]}</label>'
        '<input id="receipt" name="receipt" type="text" autocapitalize="characters" required>'
        f'<button type="submit" class="secondary">{t["find"]}</button></form></section>'
    )
    notice = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"{notice}<section>{buy}</section>{voucher}{paid}"
    return shell(
        ctx, shop.display_name, shop.branding.primary_color, shop.branding.support_phone, body
    )


def _login_form(ctx: PortalContext, login: HotspotLogin | None) -> str:
    """The router's own login form, filled in by the page (MikroTik hotspot: username,
    password, dst posted to $(link-login-only); the profile must allow http-pap)."""
    return (
        f'<form id="login" method="post" action="{escape(ctx.login_url)}">'
        f'<input type="hidden" name="username" value="{escape(login.username if login else "")}">'
        f'<input type="hidden" name="password" value="{escape(login.password if login else "")}">'
        f'<input type="hidden" name="dst" value="{escape(ctx.dst)}"></form>'
    )


POLL_SCRIPT = """
(function(){var s=document.getElementById('status'),r=document.getElementById('retry'),
f=document.getElementById('login');function poll(){fetch(STATUS,{cache:'no-store'})
.then(function(x){return x.json()}).then(function(d){s.textContent=d.message;
s.className='status '+d.state;if(d.state==='waiting'){setTimeout(poll,2000);return}
if(d.state==='paid'){if(d.login&&f.action){f.username.value=d.login.username;
f.password.value=d.login.password;f.submit()}return}r.hidden=false})
.catch(function(){setTimeout(poll,3000)})}setTimeout(poll,1000)})();
"""


def wait_page(ctx: PortalContext, shop: PortalShop, status_url: str, message: str) -> str:
    t = texts(ctx.lang)
    body = (
        f'<section><p id="status" class="status waiting" role="status">{escape(message)}</p>'
        f'<a id="retry" class="button" href="/portal/{escape(ctx.tenant)}?{escape(ctx.query())}"'
        f" hidden>{t['retry']}</a>{_login_form(ctx, None)}</section>"
        f"<script>var STATUS={json.dumps(status_url)};{POLL_SCRIPT}</script>"
    )
    return shell(
        ctx, shop.display_name, shop.branding.primary_color, shop.branding.support_phone, body
    )


def login_page(ctx: PortalContext, shop: PortalShop, login: HotspotLogin, message: str) -> str:
    """Found the payment: log the device in at once (the form submits itself)."""
    body = (
        f'<section><p class="status paid" role="status">{escape(message)}</p>'
        f"{_login_form(ctx, login)}</section>"
        "<script>var f=document.getElementById('login');if(f.action)f.submit();</script>"
    )
    return shell(
        ctx, shop.display_name, shop.branding.primary_color, shop.branding.support_phone, body
    )


def not_found_page(ctx: PortalContext) -> str:
    return shell(ctx, "EasyISP", "#0B6E4F", None, f"<p>{texts(ctx.lang)['unknown_network']}</p>")
