"""The HTTP side inside the site service, and the upkeep job that finishes what a crash
left behind."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import text

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.models.enums import MpesaCallbackKind
from easyisp_core.services.mpesa_callbacks import store_raw
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from radius_service.http.server import http_address
from radius_service.jobs.payments import PaymentUpkeepJob
from tests.service.payments.conftest import Harness
from tests.service.payments.payloads import stk_success


def test_the_site_service_serves_http_and_closes_it_on_stop(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    service = SiteService(
        Settings(database_url=fresh_db_url),
        http_addr=("127.0.0.1", 0),
        secret_box=secret_box,
    )

    async def scenario() -> tuple[int, str, str]:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), 30)
        assert service.http is not None
        assert service.http.address is not None
        host, port = service.http.address
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://{host}:{port}/health")
            # The captive portal is served by the same app (no such tenant here).
            portal = await client.get(f"http://{host}:{port}/portal/nobody")
        await asyncio.wait_for(service.stop(), 30)
        await running
        return health.status_code, portal.text, f"http://{host}:{port}/health"

    status, portal_page, url = asyncio.run(scenario())
    assert status == 200
    assert "page was not found" in portal_page
    try:
        httpx.get(url, timeout=2)
        raise AssertionError("the HTTP port still answers after stop")
    except httpx.ConnectError:
        pass


def test_http_address_setting() -> None:
    assert http_address(Settings().http_addr) == ("0.0.0.0", 8080)  # noqa: S104
    assert http_address("off") is None
    assert http_address("127.0.0.1:9090") == ("127.0.0.1", 9090)


def test_a_callback_stored_but_never_processed_is_finished_by_the_upkeep_job(h: Harness) -> None:
    h.pending_stk("ws_CO_crashed")
    # As if the process died right after storing: no reply task ran.
    with session_scope(h.server.sessions) as session:
        store_raw(
            session,
            token=h.site.token,
            kind=MpesaCallbackKind.STK,
            source="127.0.0.1",
            body=stk_success("ws_CO_crashed", amount=50, receipt="CRASHED001"),
        )
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "PENDING"
    counters: Counter[str] = Counter()
    asyncio.run(PaymentUpkeepJob(h.server.sessions, counters, grace=0).run_once())
    assert counters["mpesa.swept"] == 1
    assert h.scalar("SELECT outcome FROM mpesa_callbacks") == "APPLIED"
    assert h.scalar("SELECT count(*) FROM payments WHERE transaction_id = 'CRASHED001'") == 1


def test_the_upkeep_job_expires_unpaid_pushes_then_purges_them_after_the_retention(
    h: Harness,
) -> None:
    """Run as the site service's own login: it may delete pending payments (0026) and only
    those past the retention; a paid push is kept (it ties a phone to its customer)."""
    old_expired = h.pending_stk("ws_CO_old", expires_in=-timedelta(days=31))
    just_expired = h.pending_stk("ws_CO_recent", expires_in=-timedelta(days=29))
    old_failed = h.pending_stk("ws_CO_refused", expires_in=-timedelta(days=40))
    old_paid = h.pending_stk("ws_CO_paid", expires_in=-timedelta(days=40))
    live = h.pending_stk("ws_CO_live")
    with h.admin.begin() as session:
        session.execute(
            text("UPDATE pending_hotspot_payments SET status = 'FAILED' WHERE id = :p"),
            {"p": old_failed},
        )
        session.execute(
            text("UPDATE pending_hotspot_payments SET status = 'COMPLETED' WHERE id = :p"),
            {"p": old_paid},
        )
    counters: Counter[str] = Counter()
    job = PaymentUpkeepJob(h.server.sessions, counters, grace=0, retention=timedelta(days=30))
    asyncio.run(job.run_once())
    assert counters["mpesa.pending_expired"] == 2
    assert counters["mpesa.pending_purged"] == 2
    left = dict(h.rows("SELECT id, status FROM pending_hotspot_payments"))
    assert left == {just_expired: "EXPIRED", old_paid: "COMPLETED", live: "PENDING"}
    assert old_expired not in left
    # A second run finds nothing more to do.
    asyncio.run(job.run_once())
    assert counters["mpesa.pending_purged"] == 2


def test_the_retention_is_a_setting() -> None:
    assert Settings().pending_payment_retention_days == 30
    assert Settings(pending_payment_retention_days=7).pending_payment_retention_days == 7
