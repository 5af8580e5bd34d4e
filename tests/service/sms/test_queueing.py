"""What gets queued: a receipt when a payment completes (tenant setting), an expiry reminder
once per expiry period; both then go out through the sender to the SMS double."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from easyisp_core.services.gateways import create_payment_gateway
from easyisp_core.services.payments import record_payment
from easyisp_core.services.results import TenantInfo
from radius_service.jobs.sms_reminders import SmsReminderJob
from tests.factories import make_customer, make_package
from tests.service.sms.conftest import SmsSite


def _pay(site: SmsSite, reference: str, username: str | None = None) -> None:
    with site.admin() as session, session.begin():
        record_payment(
            session,
            {
                "tenant": site.tenant,
                "customer": username or site.username,
                "amount": "1500",
                "method": "MPESA",
                "transaction_id": reference,
            },
        )


def _set_sms(site: SmsSite, **settings: object) -> None:
    with site.admin() as session, session.begin():
        for key, value in settings.items():
            session.execute(
                text(
                    "UPDATE tenants SET config = jsonb_set(config, ARRAY['sms', :k], "
                    "to_jsonb(CAST(:v AS text)::json)) WHERE id = :t"
                ),
                {"k": key, "v": json.dumps(value), "t": site.tenant_id},
            )


def test_a_completed_payment_queues_one_receipt_that_is_then_sent(site: SmsSite) -> None:
    _pay(site, "SKL2RT61SV")

    [row] = site.rows("SELECT kind, phone, message, status, customer_id FROM sms_logs")
    assert (row.kind, row.phone, row.status, row.customer_id) == (
        "PAYMENT_RECEIPT",
        "+254712345678",
        "QUEUED",
        site.customer_id,
    )
    assert row.message.startswith("Acme Net: KES 1,500.00 received, ref SKL2RT61SV, acc ")
    assert row.message.endswith("Thank you! Help: 0700 111 222")
    assert len(row.message) <= 160

    asyncio.run(site.sender().send_batch())
    [sent] = site.sim.state.snapshot()
    assert (sent.phone, sent.text, sent.sender_id) == ("+254712345678", row.message, "ACMENET")


def test_no_receipt_when_the_setting_or_sms_is_off(site: SmsSite) -> None:
    _set_sms(site, send_payment_receipts=False)
    _pay(site, "SKL2RT61S1")
    _set_sms(site, send_payment_receipts=True, enabled=False)
    _pay(site, "SKL2RT61S2")
    assert site.rows("SELECT id FROM sms_logs") == []

    _set_sms(site, enabled=True)
    _pay(site, "SKL2RT61S3")
    assert [r.message.split(", ")[1] for r in site.rows("SELECT message FROM sms_logs")] == [
        "ref SKL2RT61S3"
    ]


def _expires(site: SmsSite, at: datetime, username: str | None = None) -> None:
    with site.admin() as session, session.begin():
        session.execute(
            text("UPDATE customers SET expires_at = :e WHERE tenant_id = :t AND username = :u"),
            {"e": at, "t": site.tenant_id, "u": username or site.username},
        )


def _sweep(site: SmsSite, now: datetime) -> int:
    job = SmsReminderJob(site.service, Counter(), clock=lambda: now)
    return asyncio.run(job.queue_due())


def test_the_expiry_reminder_is_queued_once_per_expiry(site: SmsSite) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _expires(site, now + timedelta(days=3))
    assert _sweep(site, now) == 0  # not within the 24 h window yet

    _expires(site, now + timedelta(hours=10))
    assert _sweep(site, now) == 1
    assert _sweep(site, now + timedelta(hours=1)) == 0  # once per expiry
    [row] = site.rows("SELECT kind, phone, message FROM sms_logs")
    assert row.kind == "EXPIRY_REMINDER"
    assert row.phone == "+254712345678"
    account = site.scalar("SELECT account_number FROM customers WHERE id = :c", c=site.customer_id)
    local = (now + timedelta(hours=10)).astimezone(ZoneInfo("Africa/Nairobi"))
    assert row.message == (
        f"Acme Net: your internet expires {local:%a %d %b %H:%M}. Renew to stay online "
        f"(acc {account}). Help: 0700 111 222"
    )

    # Renewed: a new expiry period gets its own reminder when it comes due, and with a
    # paybill on file the reminder says how to pay.
    with site.admin() as session, session.begin():
        create_payment_gateway(
            session,
            site.box,
            {
                "tenant": site.tenant,
                "name": "Paybill",
                "provider": "MPESA_PAYBILL",
                "shortcode": "600984",
                "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
            },
        )
    renewed = now + timedelta(days=30, hours=10)
    _expires(site, renewed)
    assert _sweep(site, renewed - timedelta(hours=10)) == 1
    latest = site.scalar("SELECT message FROM sms_logs ORDER BY id DESC LIMIT 1")
    assert f"Pay KES 1,500 to paybill 600984, acc {account}, to stay online." in latest
    assert len(latest) <= 160
    assert site.scalar("SELECT count(*) FROM sms_logs") == 2


def test_short_packages_and_reminders_off_are_not_reminded(site: SmsSite) -> None:
    now = datetime.now(UTC)
    with site.admin() as session, session.begin():
        tenant = TenantInfo(site.tenant_id, site.tenant, "Acme", "ACTIVE")
        day = make_package(session, tenant, type="HOTSPOT", validity_value=1, validity_unit="DAYS")
        make_customer(
            session,
            site.box,
            tenant,
            username="daypass",
            package=day.name,
            phone="0712345601",
            connection_type="HOTSPOT",
        )
    _expires(site, now + timedelta(hours=10), "daypass")
    assert _sweep(site, now) == 0

    _expires(site, now + timedelta(hours=10))
    _set_sms(site, expiry_reminder_hours=0)
    assert _sweep(site, now) == 0
