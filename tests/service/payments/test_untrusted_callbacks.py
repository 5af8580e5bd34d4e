"""Forged, mismatched and replayed callbacks change no balance and leave a review entry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from easyisp_core.db.engine import session_scope
from easyisp_core.models.enums import MpesaCallbackOutcome
from easyisp_core.services.mpesa_callbacks import UNMATCHED_STK_GRACE, process
from easyisp_core.services.mpesa_review import callbacks_for_review
from easyisp_core.services.stk_purchase import PushPlan, record_push
from tests.service.payments.conftest import Harness
from tests.service.payments.payloads import c2b, stk_success


def _nothing_credited(h: Harness) -> None:
    assert h.balance() == 0
    assert h.scalar("SELECT count(*) FROM payments") == 0
    assert h.scalar("SELECT count(*) FROM wallet_transactions") == 0


def _reviews(h: Harness) -> list[str | None]:
    """The review list as the console shows it (oldest first here)."""
    with h.admin() as session:
        entries = callbacks_for_review(session, h.site.tenant_id)
        entries += callbacks_for_review(session, None)  # unknown tokens
    return [e.reason for e in sorted(entries, key=lambda e: e.id)]


def test_an_unknown_token_is_refused_and_kept_for_review(h: Harness) -> None:
    h.pending_stk("ws_CO_forged")
    body = stk_success("ws_CO_forged", amount=50, receipt="FORGED0001")
    reply = h.post("stk", body, token="x" * 43)
    assert reply.status_code == 404
    h.settle()
    _nothing_credited(h)
    assert _reviews(h) == ["unknown callback token"]
    assert h.scalar("SELECT tenant_id FROM mpesa_callbacks") is None


def test_a_source_outside_the_allow_list_is_acknowledged_but_only_reviewed(h: Harness) -> None:
    h.pending_stk("ws_CO_wrong_source")
    body = stk_success("ws_CO_wrong_source", amount=50, receipt="FORGED0002")
    reply = h.post("stk", body, token=h.site.strict_token)
    assert reply.status_code == 200
    h.settle()
    _nothing_credited(h)
    assert _reviews(h) == ["source address 127.0.0.1 is not in the gateway's allow-list"]
    # The real callback that follows from an allowed source is not blocked by the forgery.
    h.post("stk", body)
    h.settle()
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'FORGED0002'") == 1


def test_amount_and_phone_mismatches_are_kept_for_review(h: Harness) -> None:
    h.pending_stk("ws_CO_amount", amount=Decimal("50"))
    h.pending_stk("ws_CO_phone", amount=Decimal("50"))
    h.post("stk", stk_success("ws_CO_amount", amount=5, receipt="MISMATCH01"))
    h.post("stk", stk_success("ws_CO_phone", amount=50, receipt="MISMATCH02", phone=254799999999))
    h.settle()
    _nothing_credited(h)
    assert _reviews(h) == [
        "amount 5.00 differs from the 50.00 requested",
        "phone 254799999999 differs from the 254712345678 the push went to",
    ]
    assert h.scalar("SELECT count(*) FROM pending_hotspot_payments WHERE status = 'PENDING'") == 2


def test_a_callback_for_no_push_of_ours_is_kept_for_review(h: Harness) -> None:
    """It may have outrun our record of the push, so it waits UNMATCHED_STK_GRACE (the
    upkeep sweep retries it) and is then kept for review; nothing is credited meanwhile."""
    h.post("stk", stk_success("ws_CO_never_sent", amount=50, receipt="UNKNOWN001"))
    callback = _wait_until_tried(h)
    _nothing_credited(h)
    assert _reviews(h) == []
    with session_scope(h.admin) as session:
        sweep_time = datetime.now(UTC) + UNMATCHED_STK_GRACE
        assert process(session, callback, sweep_time).outcome is MpesaCallbackOutcome.REVIEW
    _nothing_credited(h)
    assert _reviews(h) == ["no STK push of ours has this CheckoutRequestID"]


def test_a_result_that_outruns_the_record_of_its_push_is_applied_when_the_push_is_recorded(
    h: Harness,
) -> None:
    """Daraja answered the push and called back before our pending row was committed: the
    callback waits, and recording the push applies it (no review, no lost money)."""
    h.post("stk", stk_success("ws_CO_early", amount=50, receipt="EARLY00001"))
    _wait_until_tried(h)
    _nothing_credited(h)
    with session_scope(h.server.sessions) as session:
        plan = PushPlan(
            tenant_id=h.site.tenant_id,
            gateway=None,  # type: ignore[arg-type]  # record_push does not read it
            package_id=h.site.package_id,
            package_name="Hotspot 1 day",
            amount=Decimal("50"),
            phone="254712345678",
            mac_address=None,
            ip_address=None,
            nas_id=None,
            customer_id=h.site.customer_id,
            account_reference=h.site.username,
        )
        now = datetime.now(UTC)
        record_push(
            session,
            plan,
            checkout_request_id="ws_CO_early",
            merchant_request_id="29115-34620561-1",
            expires_at=now + timedelta(minutes=3),
            now=now,
        )
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "APPLIED"
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'EARLY00001'") == 1
    assert h.scalar("SELECT status FROM pending_hotspot_payments") == "COMPLETED"
    assert _reviews(h) == []


def _wait_until_tried(h: Harness) -> int:
    """The one stored callback, once its own processing has run (and left it PENDING)."""
    deadline = time.monotonic() + 30
    while h.server.counters["mpesa.processed"] < 1:
        assert time.monotonic() < deadline, "the callback was never processed"
        time.sleep(0.02)
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "PENDING"
    return int(h.scalar("SELECT id FROM mpesa_callbacks"))


def test_a_confirmation_for_another_shortcode_is_kept_for_review(h: Harness) -> None:
    h.post(
        "c2b/confirmation",
        c2b("SHORT00001", amount="50", account=h.site.username, shortcode="174379"),
    )
    h.settle()
    _nothing_credited(h)
    assert _reviews(h) == ["shortcode 174379 is not this gateway's"]


def test_replays_change_nothing_and_a_changed_replay_is_reviewed(h: Harness) -> None:
    h.pending_stk("ws_CO_replay")
    body = stk_success("ws_CO_replay", amount=50, receipt="REPLAY0001")
    h.post("stk", body)
    h.settle()
    balance = h.balance()
    expiry = h.scalar("SELECT expires_at FROM customers WHERE id = :c", c=h.site.customer_id)
    h.post("stk", body)  # the same delivery again
    h.post("stk", stk_success("ws_CO_replay", amount=500, receipt="REPLAY0002"))  # altered
    h.settle()
    assert h.balance() == balance
    assert h.scalar("SELECT expires_at FROM customers WHERE id = :c", c=h.site.customer_id) == (
        expiry
    )
    assert h.scalar("SELECT count(*) FROM payments") == 1
    outcomes = [
        tuple(r)
        for r in h.rows("SELECT outcome, duplicate_of IS NOT NULL FROM mpesa_callbacks ORDER BY id")
    ]
    assert outcomes == [("APPLIED", False), ("IGNORED", True), ("REVIEW", True)]


def test_a_body_that_is_not_json_is_stored_and_reviewed(h: Harness) -> None:
    reply = h.post("stk", "<xml>not daraja</xml>")
    assert reply.status_code == 200
    h.settle()
    _nothing_credited(h)
    assert _reviews(h) == ["not a Daraja callback (no CheckoutRequestID / TransID)"]
    assert h.scalar("SELECT body->>'_unparsed' FROM mpesa_callbacks") == "<xml>not daraja</xml>"
