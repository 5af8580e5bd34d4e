"""Data-driven cases (tests/data/radius/server_cases.json) through the real server: every
auth method and every reason to reject, request attributes → expected reply attributes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine
from easyisp_core.models import Customer, Package, Tenant, Voucher
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import CustomerStatus, VoucherStatus
from easyisp_core.services.customers import register_customer
from easyisp_core.services.packages import create_package
from radius_service.simulator.nas import NasSimulator
from tests.service.radius.conftest import Seeded, seed

CASES = json.loads(
    (Path(__file__).parents[2] / "data" / "radius" / "server_cases.json").read_text("utf-8")
)["cases"]
GIB = 1024**3
# 03:00 in Nairobi, the tenant's zone: what the Reply-Messages show.
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def seed_case_accounts(url: str, box: SecretBox, tenant: str) -> None:
    """The accounts behind the reject reasons the base seed has no example of."""
    now = datetime.now(UTC)
    future = now + timedelta(days=10)
    engine = make_engine(url, application_name="radius-case-seed")
    try:
        with Session(engine) as session, session.begin():
            tenant_id = session.scalars(select(Tenant.id).where(Tenant.name == tenant)).one()
            for name, kind, cap in (("Data 1 GB", "HOTSPOT", 1), ("Home capped", "PPPOE", 10)):
                create_package(
                    session,
                    {
                        "tenant": tenant,
                        "name": name,
                        "type": kind,
                        "price": Decimal("500"),
                        "download_speed": Decimal("5"),
                        "upload_speed": Decimal("2"),
                        "validity_value": 30,
                        "validity_unit": "DAYS",
                        "data_cap_bytes": cap * GIB,
                    },
                )
            accounts: list[dict[str, Any]] = [
                {"username": "dave", "connection_type": "DHCP", "package": "Home 5M"},
                {"username": "erin", "connection_type": "PPPOE"},
                {
                    "username": "frank",
                    "connection_type": "HOTSPOT",
                    "package": "Hotspot 1 day",
                    "status": CustomerStatus.SUSPENDED,
                },
                {
                    "username": "ivan",
                    "connection_type": "HOTSPOT",
                    "package": "Hotspot 1 day",
                    "expires_at": LONG_AGO,
                },
                {"username": "grace", "connection_type": "PPPOE", "package": "Home 5M"},
                {"username": "heidi", "connection_type": "HOTSPOT", "package": "Data 1 GB"},
                {"username": "judy", "connection_type": "PPPOE", "package": "Home capped"},
                {
                    "username": "kim",
                    "connection_type": "PPPOE",
                    "package": "Home 5M",
                    "static_ip": "10.20.0.15",
                },
            ]
            for account in accounts:
                register_customer(
                    session,
                    box,
                    {
                        "tenant": tenant,
                        "full_name": "Case Account",
                        "password": f"{account['username']}-pass",
                        "expires_at": future,
                        **account,
                    },
                )
            ids = {
                row.username: row.id
                for row in session.execute(select(Customer.username, Customer.id))
            }

            def usage(user: str, started: datetime, octets: int, *, open_: bool = False) -> None:
                session.add(
                    RadiusSession(
                        tenant_id=tenant_id,
                        customer_id=ids[user],
                        username=user,
                        session_id=f"{user}-{started.timestamp():.0f}",
                        started_at=started,
                        last_update_at=now,
                        stopped_at=None if open_ else now,
                        input_octets=octets // 4,
                        output_octets=octets - octets // 4,
                    )
                )

            usage("grace", now - timedelta(minutes=5), 1000, open_=True)
            usage("heidi", now - timedelta(days=2), GIB)
            # The period began 20 days ago (expires in 10, 30-day plan): the older session
            # belongs to the previous period and does not count.
            usage("judy", now - timedelta(days=2), 3 * GIB)
            usage("judy", now - timedelta(days=25), 9 * GIB)
            hotspot_day = session.scalars(
                select(Package.id).where(Package.name == "Hotspot 1 day")
            ).one()
            for code, status, valid_until in (
                ("VC-VOID0001", VoucherStatus.EXPIRED, None),
                ("VC-LATE0001", VoucherStatus.AVAILABLE, LONG_AGO),
                ("VC-CNCL0001", VoucherStatus.VOIDED, None),
            ):
                session.add(
                    Voucher(
                        tenant_id=tenant_id,
                        code=code,
                        package_id=hotspot_day,
                        price=Decimal("50"),
                        status=status,
                        valid_until=valid_until,
                    )
                )
    finally:
        engine.dispose()


@pytest.fixture
def seeded_url(fresh_db_url: str, secret_box: SecretBox) -> tuple[str, Seeded]:
    seeded = seed(fresh_db_url, secret_box)
    seed_case_accounts(fresh_db_url, secret_box, seeded.tenant_name)
    return fresh_db_url, seeded


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_server_case(nas: NasSimulator, case: dict[str, Any]) -> None:
    if "mac" in case:
        nas.calling_station_id = case["mac"]
    reply = nas.login(
        case["user"], case["password"], method=case["method"], service=case.get("service")
    )
    assert reply is not None, "no reply"
    expect = case["expect"]
    assert reply.accepted is (expect["code"] == "accept"), reply.attributes
    assert reply.message_authenticator_first
    for name, value in expect.get("attributes", {}).items():
        assert reply.first(name) == value, name
    for name in expect.get("absent", []):
        assert name not in reply.attributes, name
    for name in expect.get("present", []):
        assert reply.first(name) is not None, name
    if case["method"] == "mschapv2" and reply.accepted:
        assert reply.mschap2_success_valid
        assert reply.mppe_keys_valid


def test_the_cases_cover_every_auth_method_and_every_reason_to_reject() -> None:
    from easyisp_core.rules.radius_auth import RejectReason

    methods = {case["method"] for case in CASES}
    assert methods == {"pap", "chap", "mschapv2", "mac"}
    messages = " ".join(
        str(case["expect"].get("attributes", {}).get("Reply-Message", "")) for case in CASES
    )
    # One recognisable phrase of each reason's Reply-Message.
    phrases = {
        RejectReason.UNKNOWN_USER: "Wrong username or password.",
        RejectReason.BAD_PASSWORD: "Wrong username or password.",
        RejectReason.NOT_RADIUS_CUSTOMER: "not set up for PPPoE or hotspot",
        RejectReason.WRONG_SERVICE: "cannot be used for PPPoE",
        RejectReason.MAC_MISMATCH: "locked to another device",
        RejectReason.MAC_LOGIN_REFUSED: "not registered for automatic login",
        RejectReason.NO_PACKAGE: "no internet package",
        RejectReason.SUSPENDED: "is suspended",
        RejectReason.EXPIRED: "Your package expired on",
        RejectReason.DATA_CAP_REACHED: "used all the data",
        RejectReason.TOO_MANY_SESSIONS: "already in use",
        RejectReason.VOUCHER_EXPIRED: "This voucher",
        RejectReason.VOUCHER_VOIDED: "cancelled by your provider",
    }
    assert set(phrases) == set(RejectReason)
    for reason, phrase in phrases.items():
        assert phrase in messages, reason
