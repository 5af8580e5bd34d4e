"""The RADIUS authorization decision: data-driven cases plus the rules around them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from easyisp_core.models.enums import ConnectionType, CustomerStatus, ValidityUnit, VoucherStatus
from easyisp_core.rules.radius_auth import (
    Accept,
    AcceptKind,
    Decision,
    PackageView,
    Reject,
    RejectReason,
    RequestFacts,
    SubscriberView,
    TenantPolicy,
    VoucherView,
    authorize,
    classify_service,
    normalize_mac,
    reject_bad_password,
    reject_unknown_user,
)
from easyisp_core.rules.rate_limit import RateLimitSpec

CASES_FILE = Path(__file__).parents[1] / "data" / "radius" / "auth_decisions.json"
DATA: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
NOW = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _package(name: str | None) -> PackageView | None:
    if name is None:
        return None
    raw = DATA["packages"][name]
    spec = RateLimitSpec(
        download_mbps=Decimal(raw["download"]),
        upload_mbps=Decimal(raw["upload"]),
        burst_download_mbps=_decimal(raw.get("burst_download")),
        burst_upload_mbps=_decimal(raw.get("burst_upload")),
        burst_threshold_download_mbps=_decimal(raw.get("burst_threshold_download")),
        burst_threshold_upload_mbps=_decimal(raw.get("burst_threshold_upload")),
        burst_time_seconds=raw.get("burst_time"),
        priority=raw.get("priority", 8),
    )
    value, unit = raw["validity"]
    return PackageView(
        rate_limit=spec,
        validity_value=value,
        validity_unit=ValidityUnit(unit),
        session_time=raw.get("session_time"),
        data_cap_bytes=raw.get("data_cap_bytes"),
        shared_users=raw.get("shared_users", 1),
        address_pool=raw.get("address_pool"),
    )


def _account(raw: dict[str, Any] | None) -> SubscriberView | VoucherView | None:
    if raw is None:
        return None
    if raw["kind"] == "voucher":
        package = _package(raw["package"])
        assert package is not None
        return VoucherView(
            code=raw.get("code", "K7M2P9QX"),
            status=VoucherStatus(raw["status"]),
            package=package,
            valid_until=_moment(raw.get("valid_until")),
            expires_at=_moment(raw.get("expires_at")),
            data_used_bytes=raw.get("data_used_bytes", 0),
        )
    return SubscriberView(
        username=raw.get("username", "wanjiku.kamau"),
        status=CustomerStatus(raw["status"]),
        connection_type=ConnectionType(raw["connection_type"]),
        expires_at=_moment(raw["expires_at"]),
        package=_package(raw["package"]),
        mac_address=raw.get("mac_address"),
        static_ip=raw.get("static_ip"),
        data_used_bytes=raw.get("data_used_bytes", 0),
    )


def _policy(overrides: dict[str, Any]) -> TenantPolicy:
    raw = {**DATA["defaults"]["policy"], **overrides}
    rate = raw["expired_rate_limit"]
    return TenantPolicy(
        accept_expired_into_pool=raw["accept_expired_into_pool"],
        expired_address_list=raw["expired_address_list"],
        expired_pool=raw["expired_pool"],
        interim_interval=raw["interim_interval"],
        expired_session_timeout=raw["expired_session_timeout"],
        expired_rate_limit=RateLimitSpec(Decimal(rate["download"]), Decimal(rate["upload"])),
        timezone=ZoneInfo(raw["timezone"]),
    )


def _decide(case: dict[str, Any]) -> Decision:
    request = case["request"]
    return authorize(
        _account(case["account"]),
        RequestFacts(
            service=ConnectionType(request["service"]),
            calling_station_id=request.get("calling_station_id"),
            is_mac_login=request.get("is_mac_login", False),
        ),
        policy=_policy(case.get("policy", {})),
        now=datetime.fromisoformat(case.get("now", DATA["defaults"]["now"])),
        open_sessions=case.get("open_sessions", DATA["defaults"]["open_sessions"]),
    )


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_decision_matches_the_recorded_case(case: dict[str, Any]) -> None:
    decision = _decide(case)
    expect = case["expect"]
    # The whole reply is compared, so an attribute nobody expected fails the case too.
    assert decision.attributes() == expect["reply"]
    if expect["decision"] == "reject":
        assert isinstance(decision, Reject)
        assert decision.reason == expect["reason"]
        return
    assert isinstance(decision, Accept)
    assert decision.kind == expect["kind"]
    assert decision.first_use is expect.get("first_use", False)
    assert decision.expires_at == _moment(expect["expires_at"])


def test_the_cases_cover_every_reject_reason_and_every_accept_kind() -> None:
    reasons = {c["expect"]["reason"] for c in CASES if c["expect"]["decision"] == "reject"}
    kinds = {c["expect"]["kind"] for c in CASES if c["expect"]["decision"] == "accept"}
    # A bad password is decided by the server after auth_methods, not by authorize().
    assert reasons == {reason.value for reason in RejectReason} - {RejectReason.BAD_PASSWORD}
    assert kinds == {kind.value for kind in AcceptKind}


def test_every_reply_message_fits_in_one_attribute() -> None:
    for case in CASES:
        message = case["expect"]["reply"].get("Reply-Message", "")
        assert len(message.encode()) <= 253, case["name"]


def test_a_wrong_password_reads_like_an_unknown_user() -> None:
    assert reject_bad_password().reason is RejectReason.BAD_PASSWORD
    assert reject_bad_password().reply_message == reject_unknown_user().reply_message


def _subscriber(**changes: Any) -> SubscriberView:
    package = PackageView(RateLimitSpec(Decimal(10), Decimal(2)), 1, ValidityUnit.MONTHS)
    base = SubscriberView(
        username="otieno",
        status=CustomerStatus.ACTIVE,
        connection_type=ConnectionType.PPPOE,
        expires_at=NOW + timedelta(days=3),
        package=package,
    )
    return dataclasses.replace(base, **changes)


PPPOE = RequestFacts(ConnectionType.PPPOE, "AA:BB:CC:00:11:22")


def test_session_timeout_is_capped_at_the_radius_integer_maximum() -> None:
    decision = authorize(
        _subscriber(expires_at=datetime(2200, 1, 1, tzinfo=UTC)),
        PPPOE,
        policy=TenantPolicy(),
        now=NOW,
        open_sessions=0,
    )
    assert isinstance(decision, Accept)
    assert decision.reply.session_timeout == 2**32 - 1


def test_the_server_adds_its_class_token_to_the_reply() -> None:
    decision = authorize(_subscriber(), PPPOE, policy=TenantPolicy(), now=NOW, open_sessions=0)
    assert isinstance(decision, Accept)
    reply = dataclasses.replace(decision.reply, class_token=b"sess-42")
    assert reply.attributes()["Class"] == b"sess-42"
    assert "Class" not in decision.reply.attributes()


def test_default_policy_matches_the_tenant_config_defaults() -> None:
    policy = TenantPolicy()
    assert policy.accept_expired_into_pool is True
    assert (policy.expired_pool, policy.expired_address_list) == ("expired", "easyisp-expired")
    assert policy.interim_interval == 300
    assert policy.timezone == ZoneInfo("Africa/Nairobi")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: authorize(
                None, PPPOE, policy=TenantPolicy(), now=NOW.replace(tzinfo=None), open_sessions=0
            ),
            "timezone-aware",
        ),
        (
            lambda: authorize(None, PPPOE, policy=TenantPolicy(), now=NOW, open_sessions=-1),
            "negative",
        ),
        (lambda: _subscriber(expires_at=datetime(2026, 1, 1)), "timezone-aware"),
        (lambda: RequestFacts(ConnectionType.DHCP), "PPPOE or HOTSPOT"),
        (lambda: RequestFacts(ConnectionType.PPPOE, is_mac_login=True), "hotspot only"),
        (lambda: TenantPolicy(interim_interval=0), "positive"),
    ],
    ids=[
        "naive now",
        "negative sessions",
        "naive expiry",
        "dhcp service",
        "pppoe mac login",
        "zero interval",
    ],
)
def test_impossible_inputs_are_refused_loudly(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("framed_protocol", "service_type", "expected"),
    [
        (1, 2, ConnectionType.PPPOE),
        (1, None, ConnectionType.PPPOE),
        (None, 2, ConnectionType.PPPOE),
        (None, None, ConnectionType.HOTSPOT),
        (None, 1, ConnectionType.HOTSPOT),
    ],
)
def test_the_service_follows_framed_protocol_and_service_type(
    framed_protocol: int | None, service_type: int | None, expected: ConnectionType
) -> None:
    assert classify_service(framed_protocol, service_type) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AA:BB:CC:00:11:22", "AA:BB:CC:00:11:22"),
        ("aa:bb:cc:00:11:22", "AA:BB:CC:00:11:22"),
        ("aa-bb-cc-00-11-22", "AA:BB:CC:00:11:22"),
        ("aabb.cc00.1122", "AA:BB:CC:00:11:22"),
        ("AABBCC001122", "AA:BB:CC:00:11:22"),
        (" AA:BB:CC:00:11:22 ", "AA:BB:CC:00:11:22"),
        ("AA:BB:CC:00:11", None),
        ("AA:BB:CC:00:11:2G", None),
        ("", None),
        (None, None),
    ],
)
def test_macs_are_normalized_or_refused(raw: str | None, expected: str | None) -> None:
    assert normalize_mac(raw) == expected


@given(
    left=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=4000)),
    session_time=st.none() | st.integers(min_value=1, max_value=10**7),
)
def test_session_timeout_never_outlasts_the_subscription_or_the_session_limit(
    left: timedelta, session_time: int | None
) -> None:
    package = PackageView(
        RateLimitSpec(Decimal(5), Decimal(5)), 1, ValidityUnit.MONTHS, session_time=session_time
    )
    decision = authorize(
        _subscriber(expires_at=NOW + left, package=package),
        PPPOE,
        policy=TenantPolicy(),
        now=NOW,
        open_sessions=0,
    )
    assert isinstance(decision, Accept)
    timeout = decision.reply.session_timeout
    assert timeout is not None
    assert timeout >= 1
    # Never more than the time left rounded up to a whole second.
    assert timeout - 1 < left.total_seconds()
    if session_time is not None:
        assert timeout <= session_time
