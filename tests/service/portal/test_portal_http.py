"""The captive portal over real HTTP: the shop, a purchase through the Daraja simulator, the
status endpoint's answers, "I have already paid" and bad input."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import text

from easyisp_core.crypto import SecretBox
from easyisp_core.models import Tenant
from easyisp_core.services.results import TenantInfo
from tests.factories import make_customer
from tests.service.portal.conftest import MAC, ROUTER_LOGIN, Portal, Router

ROUTER = {"mac": MAC, "ip": "10.5.50.20", "login": ROUTER_LOGIN, "dst": "http://example.com/"}


def _status(client: httpx.Client, wait_url: str) -> dict[str, Any]:
    """Poll the JSON the waiting page polls until the purchase is settled."""
    path = wait_url.split("?")[0].replace("/wait/", "/status/")
    deadline = time.monotonic() + 30
    while True:
        body: dict[str, Any] = client.get(path, params={"mac": MAC}).json()
        if body["state"] != "waiting":
            return body
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_shop_shows_branding_packages_and_both_languages(portal: Portal) -> None:
    page = httpx.get(portal.url, params=ROUTER)
    assert page.status_code == 200
    assert "Mtaa WiFi" in page.text
    assert "#1A4E8A" in page.text
    assert "1 hour" in page.text
    assert "KES 10" in page.text
    assert f'action="{ROUTER_LOGIN}"' in page.text  # the voucher form
    assert "Kiswahili" in page.text
    swahili = httpx.get(portal.url, params={**ROUTER, "lang": "sw"})
    assert "Lipa kwa M-Pesa" in swahili.text
    assert 'lang="sw"' in swahili.text


def test_unknown_tenant_is_not_found(portal: Portal) -> None:
    assert httpx.get(f"{portal.site.base_url}/portal/nobody").status_code == 404


def test_purchase_ends_with_the_router_login(portal: Portal) -> None:
    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**ROUTER, "package": str(portal.package_id), "phone": "0712 345 600"},
        )
        assert reply.status_code == 303
        wait_url = reply.headers["location"]
        assert "/wait/" in wait_url
        page = client.get(wait_url)
        assert f'action="{ROUTER_LOGIN}"' in page.text
        body = _status(client, wait_url)
    assert body["state"] == "paid"
    # The device is the account's bound device: a MAC login (rules.hotspot_login).
    assert body["login"] == {"username": MAC, "password": ""}


def test_cancelled_purchase_offers_a_retry(portal: Portal) -> None:
    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**ROUTER, "package": str(portal.package_id), "phone": "0712345601", "lang": "sw"},
        )
        body = _status(client, reply.headers["location"])
    assert body["state"] == "cancelled"
    assert "login" not in body
    assert portal.scalar("SELECT count(*) FROM payments") == 0


def test_bad_phone_is_explained_and_nothing_is_pushed(portal: Portal) -> None:
    reply = httpx.post(
        f"{portal.url}/buy",
        data={**ROUTER, "package": str(portal.package_id), "phone": "12345"},
    )
    assert reply.status_code == 400
    assert "Safaricom number" in reply.text
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_already_paid_finds_the_payment_by_receipt(portal: Portal) -> None:
    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**ROUTER, "package": str(portal.package_id), "phone": "0712345600"},
        )
        _status(client, reply.headers["location"])
    receipt = portal.scalar("SELECT transaction_id FROM payments")
    found = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": receipt.lower()})
    assert found.status_code == 200
    assert f'value="{MAC}"' in found.text
    # A device no account is bound to: nothing to ask M-Pesa for, so not found.
    missing = httpx.post(f"{portal.url}/paid", data={**NEW_DEVICE, "receipt": "QQQ0000000"})
    assert missing.status_code == 404
    assert "could not find" in missing.text
    assert portal.scalar("SELECT count(*) FROM mpesa_status_queries") == 0


NEW_DEVICE = {**ROUTER, "mac": "AA:BB:CC:00:00:77", "ip": "10.5.50.77"}


def test_new_device_gets_an_account_and_a_mac_login(portal: Portal) -> None:
    """A phone the ISP has never seen: the purchase signs the device up, and once paid the
    router is sent a MAC login for it."""
    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**NEW_DEVICE, "package": str(portal.package_id), "phone": "0712345677"},
        )
        assert reply.status_code == 303
        body = _status(client, reply.headers["location"])
    assert body["state"] == "paid"
    assert body["login"] == {"username": NEW_DEVICE["mac"], "password": ""}
    accounts = portal.scalar(
        "SELECT count(*) FROM customers WHERE mac_address = 'aa:bb:cc:00:00:77'"
    )
    assert accounts == 1


def test_new_device_is_told_when_the_network_does_not_sign_up(portal: Portal) -> None:
    with portal.admin.begin() as session:
        session.execute(
            text(
                "UPDATE tenants SET config = config || "
                '\'{"hotspot": {"self_signup": false}}\'::jsonb WHERE id = :t'
            ),
            {"t": portal.tenant_id},
        )
    reply = httpx.post(
        f"{portal.url}/buy",
        data={**NEW_DEVICE, "package": str(portal.package_id), "phone": "0712345677"},
    )
    assert reply.status_code == 403  # a rule of the network, not bad input
    assert "does not sign up new devices" in reply.text
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0
    assert portal.scalar("SELECT count(*) FROM customers WHERE mac_address IS NOT NULL") == 1


def _record_mpesa(portal: Portal, customer_id: Any, receipt: str) -> None:
    with portal.admin.begin() as session:
        session.execute(
            text(
                "INSERT INTO payments (tenant_id, customer_id, amount, method, status, "
                "transaction_id, paid_at) VALUES (:t, :c, 50, 'MPESA', 'COMPLETED', :r, now())"
            ),
            {"t": portal.tenant_id, "c": customer_id, "r": receipt},
        )


def test_a_receipt_never_signs_in_another_device_or_hands_out_a_password(
    portal: Portal,
) -> None:
    """A receipt code is no secret (it is in the payer's SMS): it signs in only the device
    the account is bound to, and never reveals an account's password."""
    _record_mpesa(portal, portal.customer_id, "TKROWNER01")
    other = httpx.post(f"{portal.url}/paid", data={**NEW_DEVICE, "receipt": "TKROWNER01"})
    assert other.status_code == 403
    assert "paid from another device" in other.text
    # No login page for the router (that page carries the account's credentials).
    assert "Connecting you" not in other.text
    assert f'value="{MAC}"' not in other.text
    swahili = httpx.post(
        f"{portal.url}/paid", data={**NEW_DEVICE, "receipt": "TKROWNER01", "lang": "sw"}
    )
    assert "kifaa kingine" in swahili.text
    own = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "TKROWNER01"})
    assert own.status_code == 200
    assert f'value="{MAC}"' in own.text


def test_a_home_connections_receipt_does_not_log_in_at_the_hotspot(portal: Portal) -> None:
    with portal.admin.begin() as session:
        home = session.execute(
            text(
                "INSERT INTO customers (tenant_id, username, full_name, connection_type, "
                "account_number) VALUES (:t, 'home.wanjiru', 'Wanjiru', 'PPPOE', 'ACCHOME1') "
                "RETURNING id"
            ),
            {"t": portal.tenant_id},
        ).scalar_one()
    _record_mpesa(portal, home, "TKRHOME001")
    reply = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "TKRHOME001"})
    assert reply.status_code == 403
    assert "home connection" in reply.text
    assert "home.wanjiru" not in reply.text


def test_guessing_receipt_codes_is_stopped_after_a_few_tries(portal: Portal) -> None:
    _record_mpesa(portal, portal.customer_id, "TKRGUESS01")
    for n in range(5):
        wrong = httpx.post(f"{portal.url}/paid", data={**NEW_DEVICE, "receipt": f"TKRWRONG0{n}"})
        assert wrong.status_code == 404
    blocked = httpx.post(f"{portal.url}/paid", data={**NEW_DEVICE, "receipt": "TKRGUESS01"})
    assert blocked.status_code == 429
    assert "Too many tries" in blocked.text


def test_guesses_that_ask_mpesa_still_count_toward_the_limit(portal: Portal) -> None:
    """On a bound device every unknown code is asked about, and each is still a guess: after
    the limit nothing more is asked, not even about a code we hold."""
    _record_mpesa(portal, portal.customer_id, "TKRGUESS02")
    for n in range(5):
        wrong = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": f"TKRWRONG1{n}"})
        assert wrong.status_code == 202
        assert "checking this payment with M-Pesa" in wrong.text
    blocked = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "TKRWRONG19"})
    assert blocked.status_code == 429
    assert portal.scalar("SELECT count(*) FROM mpesa_status_queries") == 5
    assert not portal.scalar(
        "SELECT count(*) FROM mpesa_status_queries WHERE receipt = 'TKRWRONG19'"
    )


def test_an_unknown_receipt_on_a_bound_device_is_asked_of_mpesa_for_its_account(
    portal: Portal,
) -> None:
    """M-Pesa took the money but its confirmation never reached us: the portal queues a
    Transaction Status question for the account bound to this device (the site service
    sends it, the answer credits once) and tells the customer to come back in a minute."""
    reply = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "tkq 555 0001"})
    assert reply.status_code == 202
    assert "We are checking this payment with M-Pesa; try again in a minute." in reply.text
    assert "Connecting you" not in reply.text  # no login until M-Pesa confirms
    question = "SELECT customer_id || ' ' || origin || ' ' || state FROM mpesa_status_queries"
    assert portal.scalar(question + " WHERE receipt = 'TKQ5550001'") == (
        f"{portal.customer_id} portal QUEUED"
    )
    # Asking again (in Swahili) while the question waits sends no second question.
    again = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "TKQ5550001", "lang": "sw"})
    assert again.status_code == 202
    assert "Tunathibitisha malipo haya na M-Pesa" in again.text
    assert portal.scalar("SELECT count(*) FROM mpesa_status_queries") == 1
    # Not a receipt at all, or a receipt already credited: nothing to ask, not found.
    _record_mpesa(portal, portal.customer_id, "TKROLD0001")
    with portal.admin.begin() as session:
        session.execute(
            text("UPDATE payments SET paid_at = now() - interval '90 days', "
                 "created_at = now() - interval '90 days' WHERE transaction_id = 'TKROLD0001'")
        )  # fmt: skip
    for code in ("hello!", "TKROLD0001"):
        refused = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": code})
        assert refused.status_code == 404, code
        assert "could not find" in refused.text
    assert portal.scalar("SELECT count(*) FROM mpesa_status_queries") == 1


def test_an_expired_subscriber_buys_at_the_portal_and_the_routers_next_login_is_accepted(
    portal: Portal, router: Router
) -> None:
    """The whole purchase, end to end through the real parts: portal → STK push (Daraja
    simulator) → callback → payment → wallet → renewal → the router's next Access-Request
    (the login the portal hands the router) is accepted with the new Session-Timeout."""
    with portal.admin.begin() as session:
        session.execute(
            text("UPDATE customers SET expires_at = now() - interval '1 hour' WHERE id = :c"),
            {"c": portal.customer_id},
        )
    assert not router.login(MAC, "", MAC).accepted

    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**ROUTER, "package": str(portal.package_id), "phone": "0712 345 600"},
        )
        assert reply.status_code == 303
        body = _status(client, reply.headers["location"])
    assert body["state"] == "paid"

    paid = portal.scalar(
        "SELECT amount || ' ' || method || ' ' || status FROM payments WHERE customer_id = :c",
        c=portal.customer_id,
    )
    assert paid == "50.00 MPESA COMPLETED"
    # Credited then spent on the package through the ledger; the balance is the ledger's sum.
    ledger = portal.scalar(
        "SELECT string_agg(kind || ' ' || amount, ', ' ORDER BY id) FROM wallet_transactions "
        "WHERE customer_id = :c",
        c=portal.customer_id,
    )
    assert ledger == "TOPUP 50.00, PACKAGE_PURCHASE -50.00"
    assert portal.scalar(
        "SELECT wallet_balance = (SELECT sum(amount) FROM wallet_transactions "
        "WHERE customer_id = :c) FROM customers WHERE id = :c",
        c=portal.customer_id,
    )

    login = body["login"]
    accepted = router.login(login["username"], login["password"], MAC)
    assert accepted.accepted, accepted.attributes
    assert 23 * 3600 < accepted.first("Session-Timeout") <= 24 * 3600


def _buy(portal: Portal, phone: str, **extra: str) -> httpx.Response:
    return httpx.post(
        f"{portal.url}/buy",
        data={**ROUTER, "package": str(portal.package_id), "phone": phone, **extra},
    )


def test_a_second_purchase_while_the_phone_has_a_prompt_open_says_so(portal: Portal) -> None:
    httpx.post(f"{portal.simulator.url}/simulator/scenario", json={"scenario": "late_callback"})
    assert _buy(portal, "0712345600").status_code == 303
    again = _buy(portal, "0712345600", lang="sw")
    assert again.status_code == 409
    assert "Kuna ombi la malipo linalosubiri kwenye simu hii" in again.text
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 1


def test_a_package_taken_off_sale_is_explained(portal: Portal) -> None:
    with portal.admin.begin() as session:
        session.execute(
            text("UPDATE packages SET is_active = false WHERE id = :p"), {"p": portal.package_id}
        )
    reply = _buy(portal, "0712345600")
    assert reply.status_code == 409
    assert "no longer on sale" in reply.text
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_mpesa_not_answering_is_explained_and_leaves_no_account(portal: Portal) -> None:
    httpx.post(f"{portal.simulator.url}/simulator/outage", json={"requests": 10})
    customers = portal.scalar("SELECT count(*) FROM customers")
    reply = httpx.post(
        f"{portal.url}/buy",
        data={**NEW_DEVICE, "package": str(portal.package_id), "phone": "0712345677"},
    )
    assert reply.status_code == 503
    assert "M-Pesa is not answering" in reply.text
    assert portal.scalar("SELECT count(*) FROM customers") == customers
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_a_device_registered_to_a_home_account_is_told_to_use_its_login(
    portal: Portal, secret_box: SecretBox
) -> None:
    with portal.admin.begin() as session:
        tenant = session.get(Tenant, portal.tenant_id)
        assert tenant is not None
        make_customer(
            session, secret_box, TenantInfo.of(tenant), connection_type="PPPOE",
            mac_address=NEW_DEVICE["mac"],
        )  # fmt: skip
    reply = httpx.post(
        f"{portal.url}/buy",
        data={**NEW_DEVICE, "package": str(portal.package_id), "phone": "0712345677"},
    )
    assert reply.status_code == 403
    assert "registered to a home account" in reply.text
    assert portal.scalar("SELECT count(*) FROM pending_hotspot_payments") == 0


def test_already_paid_finds_the_payment_by_the_phone_for_this_device_only(
    portal: Portal,
) -> None:
    with httpx.Client(base_url=portal.site.base_url) as client:
        reply = client.post(
            f"/portal/{portal.tenant}/buy",
            data={**ROUTER, "package": str(portal.package_id), "phone": "0712345600"},
        )
        _status(client, reply.headers["location"])
    found = httpx.post(f"{portal.url}/paid", data={**ROUTER, "receipt": "+254 712 345 600"})
    assert found.status_code == 200
    assert f'value="{MAC}"' in found.text
    # Another device, or a number that has not paid: one answer, nothing revealed.
    for device, phone in [(NEW_DEVICE, "0712345600"), (ROUTER, "0722 000 111")]:
        refused = httpx.post(f"{portal.url}/paid", data={**device, "receipt": phone})
        assert refused.status_code == 404
        assert "no payment from that number" in refused.text
        assert MAC not in refused.text.split("<form")[0]
