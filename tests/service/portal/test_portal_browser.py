"""The captive portal in a real browser: Debian's headless Chromium driven by Playwright, on a
phone-sized screen, buys a package through the Daraja simulator and ends on the router's
login step. The router's login URL is answered by the test as a MikroTik hotspot does: the
posted login becomes an Access-Request to the site's real RADIUS server, and the page says
"You are logged in" only on Access-Accept.
Screenshots go to docs/screenshots/portal-*.png when EASYISP_SCREENSHOTS=1 (else a temporary
folder, so a test run leaves the checkout alone). Skips only when chromium is absent
(`tools/dev.py test` installs it on Debian)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import text

from tests.service.portal.conftest import MAC, ROUTER_LOGIN, Portal, Router

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = (
    Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    if os.environ.get("EASYISP_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "easyisp-portal-screenshots"
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


def test_phone_buys_a_package_and_is_logged_in_at_the_router(
    portal: Portal, router: Router
) -> None:
    from playwright.sync_api import Route, sync_playwright

    # The subscriber's time has run out: the router refuses the device until it pays.
    with portal.admin.begin() as session:
        session.execute(
            text("UPDATE customers SET expires_at = now() - interval '1 hour' WHERE id = :c"),
            {"c": portal.customer_id},
        )
    assert not router.login(MAC, "", MAC).accepted

    posted: list[dict[str, str]] = []
    timeouts: list[int] = []

    def router_login(route: Route) -> None:
        form = dict(parse_qsl(route.request.post_data or "", keep_blank_values=True))
        posted.append(form)
        reply = router.login(form.get("username", ""), form.get("password", ""), MAC)
        if reply.accepted:
            timeouts.append(reply.first("Session-Timeout"))
        route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><meta name=viewport content='width=device-width'>"
            + ("<h1>You are logged in</h1>" if reply.accepted else "<h1>Login refused</h1>"),
        )

    SHOTS.mkdir(parents=True, exist_ok=True)
    query = urlencode({"mac": MAC, "ip": "10.5.50.20", "login": ROUTER_LOGIN, "dst": ""})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(
                viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True
            )
            page.route(f"{ROUTER_LOGIN}*", router_login)
            page.goto(f"{portal.url}?{query}")
            page.screenshot(path=SHOTS / "portal-shop.png", full_page=True)

            page.get_by_text("Kiswahili").click()
            page.wait_for_selector("text=Lipa kwa M-Pesa")
            page.screenshot(path=SHOTS / "portal-shop-sw.png", full_page=True)
            page.get_by_text("English").click()

            page.get_by_label("1 day").check()
            page.fill("#phone", "0712 345 600")
            page.click("#pay")
            page.wait_for_selector("#status")
            page.screenshot(path=SHOTS / "portal-waiting.png", full_page=True)

            page.wait_for_selector("text=You are logged in", timeout=30_000)
            page.screenshot(path=SHOTS / "portal-logged-in.png", full_page=True)
        finally:
            browser.close()
    assert posted == [{"username": MAC, "password": "", "dst": ""}]
    assert len(timeouts) == 1
    assert 23 * 3600 < timeouts[0] <= 24 * 3600
    assert portal.scalar("SELECT status FROM pending_hotspot_payments") == "COMPLETED"


def test_a_cancelled_payment_offers_a_retry_in_swahili(portal: Portal) -> None:
    from playwright.sync_api import sync_playwright

    query = urlencode({"mac": MAC, "ip": "10.5.50.20", "login": ROUTER_LOGIN, "lang": "sw"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
            page.goto(f"{portal.url}?{query}")
            page.fill("#phone", "0712345601")  # the simulator: the customer cancels
            page.click("#pay")
            page.wait_for_selector("#retry:not([hidden])", timeout=30_000)
            assert page.inner_text("#status") == "Umeghairi malipo."
            page.screenshot(path=SHOTS / "portal-cancelled-sw.png", full_page=True)
            page.click("#retry")
            page.wait_for_selector("#phone")
        finally:
            browser.close()
    assert portal.scalar("SELECT count(*) FROM payments") == 0
