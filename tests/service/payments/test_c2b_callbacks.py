"""Paybill (C2B): validation decisions, confirmations credited by account, the suspense list,
and one receipt reported by both STK and C2B crediting once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.services.mpesa_suspense import open_suspense, resolve_suspense
from tests.factories import make_customer, make_tenant
from tests.service.payments.conftest import SHORTCODE, Harness
from tests.service.payments.payloads import c2b, stk_success


def test_validation_accepts_a_known_account_typed_loosely_and_rejects_the_rest(
    h: Harness,
) -> None:
    loose = " ".join(h.site.account_number.lower())  # "a c c 0 0 1": case and spaces ignored
    accept = h.post("c2b/validation", c2b("VAL0000001", amount="50", account=loose))
    unknown = h.post("c2b/validation", c2b("VAL0000002", amount="50", account="nobody"))
    shortcode = h.post(
        "c2b/validation",
        c2b("VAL0000003", amount="50", account=h.site.username, shortcode="111111"),
    )
    fraction = h.post("c2b/validation", c2b("VAL0000004", amount="50.50", account=h.site.username))
    assert accept.json() == {"ResultCode": "0", "ResultDesc": "Accepted"}
    assert unknown.json() == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    assert shortcode.json() == {"ResultCode": "C2B00015", "ResultDesc": "Rejected"}
    assert fraction.json() == {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
    assert h.balance() == 0


def test_a_matched_confirmation_credits_and_renews(h: Harness) -> None:
    reply = h.post(
        "c2b/confirmation",
        c2b("C2BMATCH01", amount="120", account=h.site.username.upper(), balance="5000.00"),
    )
    assert reply.json() == {"ResultCode": 0, "ResultDesc": "Success"}
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'C2BMATCH01'") == 1
    # 120 in, one 50 package bought: the rest stays in the wallet (partial payments add up).
    assert h.balance() == 70
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "APPLIED"


def test_one_receipt_by_stk_callback_and_c2b_confirmation_credits_once(h: Harness) -> None:
    h.pending_stk("ws_CO_both")
    h.post("stk", stk_success("ws_CO_both", amount=50, receipt="BOTHROUTE1"))
    h.post("c2b/confirmation", c2b("BOTHROUTE1", amount="50", account=h.site.account_number))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'BOTHROUTE1'") == 1
    assert h.scalar("SELECT count(*) FROM wallet_transactions WHERE kind = 'TOPUP'") == 1
    outcomes = sorted(r[0] for r in h.rows("SELECT outcome FROM mpesa_callbacks"))
    assert outcomes == ["APPLIED", "IGNORED"]


def test_one_receipt_racing_in_by_both_routes_at_once_credits_once(h: Harness) -> None:
    """25 copies of the STK callback and 25 of the C2B confirmation for one receipt, all at
    the same moment: one payment, one top-up, one renewal."""
    h.pending_stk("ws_CO_race")
    stk = stk_success("ws_CO_race", amount=50, receipt="RACEROUTE1")
    confirmation = c2b("RACEROUTE1", amount="50", account=h.site.account_number)

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=h.server.base_url, timeout=60) as client:
            posts = [client.post(f"/pay/{h.site.token}/stk", json=stk) for _ in range(25)]
            posts += [
                client.post(f"/pay/{h.site.token}/c2b/confirmation", json=confirmation)
                for _ in range(25)
            ]
            replies = await asyncio.gather(*posts)
        return [r.status_code for r in replies]

    assert asyncio.run(flood()) == [200] * 50
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'RACEROUTE1'") == 1
    assert h.scalar("SELECT count(*) FROM wallet_transactions WHERE kind = 'TOPUP'") == 1
    assert h.scalar("SELECT count(*) FROM wallet_transactions WHERE kind = 'PACKAGE_PURCHASE'") == 1
    outcomes = dict(h.rows("SELECT outcome, count(*) FROM mpesa_callbacks GROUP BY outcome"))
    assert outcomes == {"APPLIED": 1, "IGNORED": 49}


@pytest.mark.parametrize("typed", ["lower", "spaced", "padded"])
def test_a_confirmation_finds_the_account_whatever_its_case_and_spaces(
    h: Harness, typed: str
) -> None:
    number = h.site.account_number
    account = {
        "lower": number.lower(),
        "spaced": " ".join(number),
        "padded": f"  {number[:3]} {number[3:].lower()}  ",
    }[typed]
    h.post("c2b/confirmation", c2b("LOOSE00001", amount="50", account=account))
    h.settle()
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "APPLIED"
    assert h.scalar("SELECT customer_id FROM payments") == h.site.customer_id


def test_an_unmatched_confirmation_waits_in_suspense_until_staff_assign_it(h: Harness) -> None:
    h.post("c2b/confirmation", c2b("SUSPENSE01", amount="50", account="house 14"))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments") == 0
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "SUSPENSE"
    with session_scope(h.admin) as session:
        entries = open_suspense(session, h.site.tenant_id)
        assert [(e.receipt, e.account_reference, e.payer_name) for e in entries] == [
            ("SUSPENSE01", "house 14", "Wanjiru Kamau")
        ]
        resolution = resolve_suspense(
            session, entries[0].id, h.site.other_customer_id, datetime.now(UTC)
        )
        assert resolution.renewed_until is not None
    assert (
        h.scalar("SELECT customer_id FROM payments WHERE transaction_id = 'SUSPENSE01'")
        == h.site.other_customer_id
    )
    assert h.scalar("SELECT status FROM mpesa_suspense") == "RESOLVED"
    with session_scope(h.admin) as session:
        assert open_suspense(session, h.site.tenant_id) == []
        # Resolving twice is refused and changes nothing.
        entry_id = h.scalar("SELECT id FROM mpesa_suspense")
        with pytest.raises(ValidationFailed, match="already resolved"):
            resolve_suspense(session, entry_id, h.site.customer_id, datetime.now(UTC))
    assert h.scalar("SELECT count(*) FROM payments") == 1


def test_suspense_cannot_be_assigned_to_another_tenants_customer(
    h: Harness, secret_box: SecretBox
) -> None:
    with session_scope(h.admin) as session:
        foreign = make_customer(session, secret_box, make_tenant(session)).id
    h.post("c2b/confirmation", c2b("SUSPENSE02", amount="50", account="unknown"))
    h.settle()
    with session_scope(h.admin) as session:
        entry = open_suspense(session, h.site.tenant_id)[0]
        for customer in (foreign, uuid.uuid4()):
            with pytest.raises(NotFound, match="No such customer"):
                resolve_suspense(session, entry.id, customer, datetime.now(UTC))
    assert h.scalar("SELECT count(*) FROM payments") == 0
    assert h.scalar("SELECT status FROM mpesa_suspense") == "OPEN"


def test_a_receipt_in_suspense_is_settled_when_its_stk_callback_arrives(h: Harness) -> None:
    h.post("c2b/confirmation", c2b("LATESTK001", amount="50", account="typo", shortcode=SHORTCODE))
    h.settle()
    h.pending_stk("ws_CO_after_suspense")
    h.post("stk", stk_success("ws_CO_after_suspense", amount=50, receipt="LATESTK001"))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'LATESTK001'") == 1
    assert h.scalar("SELECT status FROM mpesa_suspense") == "RESOLVED"
