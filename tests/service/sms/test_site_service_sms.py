"""The whole path inside the site service: a payment queues a receipt, the service's sender
sends it to the SMS double, the double's delivery report reaches the service's HTTP app."""

from __future__ import annotations

import asyncio

from easyisp_core.services.payments import record_payment
from easyisp_core.settings import Settings
from radius_service.app import SiteService
from tests.service.sms.conftest import WAIT, SmsSite


def test_a_payment_receipt_is_sent_and_delivered_by_the_running_service(
    site: SmsSite, fresh_db_url: str
) -> None:
    service = SiteService(
        Settings(database_url=fresh_db_url), http_addr=("127.0.0.1", 0), secret_box=site.box
    )

    def status() -> str | None:
        value = site.scalar("SELECT status FROM sms_logs WHERE kind = 'PAYMENT_RECEIPT'")
        return None if value is None else str(value)

    async def scenario() -> None:
        running = asyncio.create_task(service.run())
        await asyncio.wait_for(service.started.wait(), 30)
        assert service.http is not None
        assert service.http.address is not None
        host, port = service.http.address
        site.sim.config.callback_url = f"http://{host}:{port}/sms/{site.token}/dlr"
        with site.admin() as session, session.begin():
            record_payment(
                session,
                {
                    "tenant": site.tenant,
                    "customer": site.username,
                    "amount": "1500",
                    "method": "MPESA",
                    "transaction_id": "SVC0RT61SV",
                },
            )
        try:
            # The sender runs every 5 s; the report comes right after the send.
            for _ in range(int((WAIT + 10) / 0.05)):
                if await asyncio.to_thread(status) == "DELIVERED":
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.wait_for(service.stop(), 30)
            await running

    asyncio.run(scenario())
    assert status() == "DELIVERED"
    [sent] = site.sim.state.snapshot()
    assert "ref SVC0RT61SV" in sent.text
    assert service.counters["sms.sent"] == 1
    assert service.counters["sms.dlr.applied"] == 1
