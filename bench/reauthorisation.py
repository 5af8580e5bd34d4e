"""Success callback → subscriber re-authorised, for bench/payments.py.

Online subscribers: each has an open session on a simulated router (CoA listener + accounting
client against the real accounting server). An STK success is posted to the real callback
endpoints; the credit renews the package and queues a DISCONNECT; the real session-control
runner (LISTEN/NOTIFY wake-up, CoA client) disconnects the session and the command is DONE
once the router's Accounting-Stop closed it. Latency = command finished_at − callback
received_at (both stamped at the site).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text, update
from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import Database, make_engine, session_scope
from easyisp_core.models import Nas, PendingHotspotPayment
from easyisp_core.services.gateways import create_payment_gateway
from radius_service.commands.runner import SessionControl
from radius_service.simulator.coa_listener import CoaListener
from radius_service.simulator.nas import NasSimulator
from tests.factories import make_customer, make_nas, make_package, make_tenant
from tests.service.payments.conftest import CallbackServer
from tests.service.payments.payloads import stk_success
from tests.service.radius.test_accounting import AcctServerThread

NAS_SECRET = "bench-nas-secret-0123456789"  # noqa: S105 - a simulated router's secret


def _seed(url: str, box: SecretBox, count: int) -> tuple[str, list[str]]:
    engine = make_engine(url, application_name="bench-reauth-seed")
    with session_scope(sessionmaker(engine)) as session:
        tenant = make_tenant(session)
        package = make_package(
            session, tenant, type="HOTSPOT", price=Decimal("50"), validity_value=1,
            validity_unit="DAYS",
        )  # fmt: skip
        gateway = create_payment_gateway(
            session,
            box,
            {
                "tenant": tenant.name, "name": "Hotspot", "provider": "MPESA_PAYBILL",
                "shortcode": "600984",
                "credentials": {"consumer_key": "k", "consumer_secret": "s", "passkey": "p"},
            },
        )  # fmt: skip
        make_nas(session, box, tenant, ip_address="127.0.0.1", secret=NAS_SECRET)
        usernames = []
        for n in range(count):
            customer = make_customer(
                session, box, tenant, connection_type="HOTSPOT", package=package.name,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )  # fmt: skip
            usernames.append(customer.username)
            session.add(
                PendingHotspotPayment(
                    tenant_id=tenant.id,
                    checkout_request_id=f"ws_CO_reauth_{n}",
                    phone="254712345678",
                    amount=Decimal("50"),
                    package_id=package.id,
                    customer_id=customer.id,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
    engine.dispose()
    assert gateway.callback_token is not None
    return gateway.callback_token, usernames


class _ControlThread:
    """The site service's session-control runner on its own event loop thread."""

    def __init__(self, database: Database, box: SecretBox) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._database = database
        self._box = box
        self.control: SessionControl | None = None

    def start(self) -> None:
        self._thread.start()

        async def go() -> None:
            self.control = SessionControl(self._database, self._box, Counter(), poll_interval=1.0)
            self.control.start()

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(30)

    def stop(self) -> None:
        if self.control is not None:
            asyncio.run_coroutine_threadsafe(self.control.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(url: str, count: int, gap: float = 0.05) -> tuple[list[float], int]:
    """Latencies in seconds of the subscribers re-authorised, and how many were not."""
    box = SecretBox.from_encoded(new_site_key())
    token, usernames = _seed(url, box, count)
    acct = AcctServerThread(url, box)
    acct_address = acct.start()
    router = CoaListener(NAS_SECRET.encode(), NasSimulator(acct_address, NAS_SECRET.encode()))
    router.start()
    engine = make_engine(url, application_name="bench-reauth", pool_size=10)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with session_scope(sessions) as session:
        session.execute(update(Nas).values(coa_port=router.address[1]))
    for n, username in enumerate(usernames):
        router.connect(username, f"bench-{n}", f"10.5.{n // 250}.{n % 250 + 1}")
    control = _ControlThread(Database(engine, sessions), box)
    control.start()
    server = CallbackServer(engine)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for n in range(count):
                body = stk_success(f"ws_CO_reauth_{n}", amount=50, receipt=f"BRA{n:07d}")
                client.post(f"/pay/{token}/stk", json=body).raise_for_status()
                # One payment at a time, as customers pay: latency, not throughput.
                time.sleep(gap)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                open_commands = conn.execute(
                    text(
                        "SELECT count(*) FROM service_commands"
                        " WHERE status NOT IN ('DONE', 'FAILED')"
                    )
                ).scalar_one()
            if open_commands == 0:
                break
            time.sleep(0.05)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT extract(epoch FROM sc.finished_at - cb.received_at)"
                    " FROM mpesa_callbacks cb"
                    " JOIN payments p ON p.id = cb.payment_id"
                    " JOIN service_commands sc ON sc.customer_id = p.customer_id"
                    " WHERE sc.kind = 'DISCONNECT' AND sc.status = 'DONE'"
                )
            ).scalars()
            latencies = [float(value) for value in rows]
    finally:
        server.stop()
        control.stop()
        router.stop()
        acct.stop()
        engine.dispose()
    return latencies, count - len(latencies)


def report(url: str, count: int) -> bool:
    latencies, missing = measure(url, count)
    if not latencies:
        print("re-authorisation: no subscriber was re-authorised")
        return False
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    verdict = "OK" if p99 < 1.0 and missing == 0 else "MISSED"
    print(
        f"success callback → re-authorised (DISCONNECT done), {len(latencies)} online "
        f"subscribers: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms [{verdict}: p99 < 1 s]"
        + (f", {missing} not re-authorised" if missing else "")
    )
    return verdict == "OK"


__all__ = ["measure", "report"]
