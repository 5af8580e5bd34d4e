"""The outbox sender and delivery reports against the SMS double over real HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text

from tests.service.sms.conftest import SmsSite


def _drain(site: SmsSite, batch: int = 10) -> None:
    job = site.sender(batch=batch)
    while asyncio.run(job.send_batch()):
        pass


def test_two_racing_senders_send_each_queued_row_exactly_once(site: SmsSite) -> None:
    for n in range(40):
        site.queue("+254712345678", f"message {n}")
    barrier = threading.Barrier(2)
    claimed: Counter[str] = Counter()

    def sender(name: str) -> None:
        job = site.sender(batch=3)
        barrier.wait()
        while count := asyncio.run(job.send_batch()):
            claimed[name] += count

    threads = [threading.Thread(target=sender, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    sent = sorted(m.text for m in site.sim.state.snapshot())
    assert sent == sorted(f"message {n}" for n in range(40))
    assert claimed["a"] + claimed["b"] == 40
    assert claimed["a"] > 0
    assert claimed["b"] > 0  # both really took part
    rows = site.rows("SELECT status, provider_message_id, gateway_id, attempts FROM sms_logs")
    assert {(r.gateway_id, r.attempts) for r in rows} == {(site.gateway_id, 1)}
    assert {r.status for r in rows} <= {"SENT", "DELIVERED"}  # reports may be in already
    assert {r.provider_message_id for r in rows} == {
        m.message_id for m in site.sim.state.snapshot()
    }


def test_a_delivery_report_marks_the_row_delivered_or_failed(site: SmsSite) -> None:
    site.queue("+254712345678", "will arrive")
    site.queue("+254712345699", "will be rejected")  # the double rejects numbers ending 99
    _drain(site)

    def settled() -> bool:
        return {r.status for r in site.rows("SELECT status FROM sms_logs")} <= {
            "DELIVERED",
            "FAILED",
        }

    site.wait_until(settled)
    rows = {
        r.phone: r
        for r in site.rows("SELECT phone, status, error, delivered_at, cost FROM sms_logs")
    }
    assert rows["+254712345678"].status == "DELIVERED"
    assert rows["+254712345678"].delivered_at is not None
    assert rows["+254712345678"].cost == Decimal("0.8000")
    assert rows["+254712345699"].status == "FAILED"
    assert rows["+254712345699"].error == "Rejected: DeliveryFailure"


def test_delivery_reports_need_the_gateway_token_and_a_small_body(site: SmsSite) -> None:
    with httpx.Client(base_url=site.http.url) as client:
        unknown = client.post("/sms/not-a-token/dlr", data={"id": "x", "status": "Success"})
        huge = client.post(f"/sms/{site.token}/dlr", content=b"id=" + b"x" * 20_000)
        stray = client.post(f"/sms/{site.token}/dlr", data={"id": "ATXid_x", "status": "Success"})
    assert unknown.status_code == 404
    assert huge.status_code == 413
    assert stray.status_code == 200  # unknown message: acknowledged, nothing changed


def test_an_empty_balance_is_retried_later_and_then_sent(site: SmsSite) -> None:
    site.sim.config.balance = Decimal("0")
    site.queue("+254712345678", "retry me")
    _drain(site)

    [row] = site.rows("SELECT status, attempts, error, next_attempt_at FROM sms_logs")
    assert (row.status, row.attempts) == ("QUEUED", 1)
    assert "InsufficientBalance" in row.error
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=30)
    _drain(site)  # not due yet: nothing is sent
    assert site.sim.state.snapshot() == []

    site.sim.config.balance = Decimal("10")
    later = datetime.now(UTC) + timedelta(minutes=2)
    asyncio.run(site.sender(clock=lambda: later).send_batch())
    [row] = site.rows("SELECT status, attempts FROM sms_logs")
    assert (row.status, row.attempts) == ("SENT", 2)
    assert [m.text for m in site.sim.state.snapshot()] == ["retry me"]


def test_a_refused_api_key_fails_the_row_without_retrying(site: SmsSite) -> None:
    site.sim.config.api_key = "rotated"
    site.queue("+254712345678", "never")
    _drain(site)

    [row] = site.rows("SELECT status, attempts, error FROM sms_logs")
    assert (row.status, row.attempts) == ("FAILED", 1)
    assert "refused the credentials" in row.error


def test_a_row_claimed_by_a_sender_that_died_is_closed_not_resent(site: SmsSite) -> None:
    site.queue("+254712345678", "in flight when the service died")
    with site.admin() as session, session.begin():
        session.execute(
            text("UPDATE sms_logs SET sending_since = now() - interval '11 minutes', attempts = 1")
        )
    _drain(site)

    [row] = site.rows("SELECT status, error FROM sms_logs")
    assert row.status == "FAILED"
    assert row.error.startswith("outcome unknown")
    assert site.sim.state.snapshot() == []


def test_a_message_waiting_over_a_day_is_dropped_not_sent_late(site: SmsSite) -> None:
    with site.admin() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO sms_logs (tenant_id, phone, message, created_at) "
                "VALUES (:t, '+254712345678', 'stale', now() - interval '25 hours')"
            ),
            {"t": site.tenant_id},
        )
    _drain(site)

    [row] = site.rows("SELECT status, error FROM sms_logs")
    assert row.status == "FAILED"
    assert row.error.startswith("expired")
    assert site.sim.state.snapshot() == []
