"""STK Push results over real HTTP: stored raw, acknowledged, credited once, renewed once,
and the subscriber queued for re-authorisation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text

from easyisp_core.db.engine import session_scope
from easyisp_core.services.mpesa_upkeep import expire_pending
from tests.service.payments.conftest import Harness
from tests.service.payments.payloads import stk_failure, stk_success


def _open_session(h: Harness) -> None:
    with h.admin() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO sessions (tenant_id, customer_id, username, session_id) "
                "VALUES (:t, :c, :u, 'acct-1')"
            ),
            {"t": h.site.tenant_id, "c": h.site.customer_id, "u": h.site.username},
        )


def test_a_successful_stk_result_credits_renews_and_queues_reauthorisation(h: Harness) -> None:
    _open_session(h)
    pending = h.pending_stk("ws_CO_251120261430151")
    before = h.scalar("SELECT expires_at FROM customers WHERE id = :c", c=h.site.customer_id)

    reply = h.post("stk", stk_success("ws_CO_251120261430151", amount=50, receipt="NLJ7RT61SV"))

    assert reply.status_code == 200
    assert reply.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    h.settle()
    payment = h.rows(
        "SELECT status, amount, method, customer_id FROM payments WHERE transaction_id = :r",
        r="NLJ7RT61SV",
    )
    assert [tuple(p) for p in payment] == [
        ("COMPLETED", Decimal("50.00"), "MPESA", h.site.customer_id)
    ]
    ledger = h.rows(
        "SELECT kind, amount FROM wallet_transactions WHERE customer_id = :c ORDER BY id",
        c=h.site.customer_id,
    )
    assert [tuple(e) for e in ledger] == [
        ("TOPUP", Decimal("50.00")),
        ("PACKAGE_PURCHASE", Decimal("-50.00")),
    ]
    assert h.balance() == 0
    after = h.scalar("SELECT expires_at FROM customers WHERE id = :c", c=h.site.customer_id)
    assert after > (before or datetime.now(UTC)) + timedelta(hours=23)
    assert h.scalar("SELECT status FROM pending_hotspot_payments WHERE id = :p", p=pending) == (
        "COMPLETED"
    )
    commands = h.rows(
        "SELECT kind, status, payload->>'session_id' FROM service_commands WHERE customer_id = :c",
        c=h.site.customer_id,
    )
    assert [tuple(c) for c in commands] == [("DISCONNECT", "QUEUED", "acct-1")]
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "APPLIED"


def test_fifty_concurrent_copies_of_one_callback_credit_exactly_once(h: Harness) -> None:
    h.pending_stk("ws_CO_fifty")
    body = stk_success("ws_CO_fifty", amount=50, receipt="QAB1CD2EF3")

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=h.server.base_url, timeout=60) as client:
            replies = await asyncio.gather(
                *(client.post(f"/pay/{h.site.token}/stk", json=body) for _ in range(50))
            )
        return [r.status_code for r in replies]

    assert asyncio.run(flood()) == [200] * 50
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'QAB1CD2EF3'") == 1
    assert (
        h.scalar(
            "SELECT count(*) FROM wallet_transactions WHERE customer_id = :c AND kind = 'TOPUP'",
            c=h.site.customer_id,
        )
        == 1
    )
    assert h.scalar("SELECT count(*) FROM wallet_transactions WHERE kind = 'PACKAGE_PURCHASE'") == 1
    outcomes = dict(h.rows("SELECT outcome, count(*) FROM mpesa_callbacks GROUP BY outcome"))
    assert outcomes == {"APPLIED": 1, "IGNORED": 49}


def test_a_cancelled_push_marks_the_pending_payment_failed_and_moves_no_money(h: Harness) -> None:
    for checkout, code, desc in [
        ("ws_CO_cancel", 1032, "Request cancelled by user"),
        ("ws_CO_timeout", 1037, "DS timeout user cannot be reached"),
        ("ws_CO_broke", 1, "The balance is insufficient for the transaction"),
    ]:
        pending = h.pending_stk(checkout)
        assert h.post("stk", stk_failure(checkout, code, desc)).status_code == 200
        h.settle()
        row = h.rows(
            "SELECT status, result_code, result_description FROM pending_hotspot_payments "
            "WHERE id = :p",
            p=pending,
        )
        assert tuple(row[0]) == ("FAILED", code, desc)
    assert h.balance() == 0
    assert h.scalar("SELECT count(*) FROM payments") == 0


def test_a_success_after_a_timeout_result_still_credits(h: Harness) -> None:
    h.pending_stk("ws_CO_late_ok")
    h.post("stk", stk_failure("ws_CO_late_ok", 1037, "DS timeout user cannot be reached"))
    h.settle()
    h.post("stk", stk_success("ws_CO_late_ok", amount=50, receipt="RKTQDM7W6S"))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'RKTQDM7W6S'") == 1
    assert h.scalar("SELECT status FROM pending_hotspot_payments") == "COMPLETED"


def test_a_late_success_after_the_pending_payment_expired_still_credits_the_wallet(
    h: Harness,
) -> None:
    pending = h.pending_stk("ws_CO_expired", expires_in=timedelta(seconds=-5))
    with session_scope(h.admin) as session:
        assert expire_pending(session, datetime.now(UTC)) == 1
    assert h.scalar("SELECT status FROM pending_hotspot_payments WHERE id = :p", p=pending) == (
        "EXPIRED"
    )
    h.post("stk", stk_success("ws_CO_expired", amount=50, receipt="SLATE12345"))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'SLATE12345'") == 1
    assert h.scalar("SELECT status FROM pending_hotspot_payments WHERE id = :p", p=pending) == (
        "COMPLETED"
    )
    # Credited and spent on the package: money taken is never lost.
    assert h.scalar("SELECT sum(amount) FROM wallet_transactions WHERE kind = 'TOPUP'") == Decimal(
        "50.00"
    )


def test_health_answers(h: Harness) -> None:
    reply = h.client.get("/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"


def test_a_paid_push_that_names_no_customer_waits_in_suspense(h: Harness) -> None:
    h.pending_stk("ws_CO_nobody", customer=None)
    h.post("stk", stk_success("ws_CO_nobody", amount=50, receipt="NOBODY0001"))
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments") == 0
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "SUSPENSE"
    suspense = h.rows("SELECT receipt, amount, status FROM mpesa_suspense")
    assert [tuple(r) for r in suspense] == [("NOBODY0001", Decimal("50.00"), "OPEN")]
