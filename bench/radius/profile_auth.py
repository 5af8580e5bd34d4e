"""Where one Access-Request's CPU goes on the fast path (no database, no network): decode,
checks, the decision, the reply. Times each stage, then cProfiles the whole path.

    .venv/bin/python bench/radius/profile_auth.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "radius"))

from loadgen import access_request  # noqa: E402

from easyisp_core.models.enums import ConnectionType, CustomerStatus, ValidityUnit  # noqa: E402
from easyisp_core.rules.radius_auth import (  # noqa: E402
    PackageView,
    SubscriberView,
    TenantPolicy,
    authorize,
)
from easyisp_core.rules.rate_limit import RateLimitSpec  # noqa: E402
from radius_service import auth_methods  # noqa: E402
from radius_service.radius.auth import read_credentials  # noqa: E402
from radius_service.radius.codec import ACCESS_ACCEPT, decode, encode_reply  # noqa: E402

SECRET = b"bench-secret-0123456789"
PASSWORD = b"correct-horse"


def stages(raw: bytes) -> dict[str, Callable[[], Any]]:
    packet = decode(raw)
    creds = read_credentials(packet)
    assert creds is not None
    view = SubscriberView(
        username="alice",
        status=CustomerStatus.ACTIVE,
        connection_type=ConnectionType.PPPOE,
        expires_at=datetime.now(UTC) + timedelta(days=10),
        package=PackageView(RateLimitSpec(Decimal(5), Decimal(2)), 1, ValidityUnit.MONTHS),
    )
    policy = TenantPolicy()
    decision = authorize(view, creds.facts, policy=policy, now=datetime.now(UTC), open_sessions=0)
    spec = replace(decision.reply, class_token=f"easyisp:{uuid.uuid4().hex}".encode())  # type: ignore[union-attr]
    attributes = list(spec.attributes().items())
    assert creds.user_password is not None
    hidden = creds.user_password
    return {
        "decode (pyrad)": lambda: decode(raw),
        "Message-Authenticator check": lambda: auth_methods.verify_message_authenticator(
            raw, SECRET
        ),
        "read_credentials": lambda: read_credentials(packet),
        "PAP check": lambda: auth_methods.verify_pap(
            hidden, SECRET, packet.authenticator, PASSWORD
        ),
        "authorize (pure rules)": lambda: authorize(
            view, creds.facts, policy=policy, now=datetime.now(UTC), open_sessions=0
        ),
        "encode_reply (pyrad)": lambda: encode_reply(ACCESS_ACCEPT, packet, attributes, SECRET),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    raw = access_request(1, b"alice", PASSWORD, SECRET)
    work = stages(raw)
    total = 0.0
    for name, call in work.items():
        started = time.perf_counter()
        for _ in range(args.requests):
            call()
        each = (time.perf_counter() - started) / args.requests * 1e6
        total += each
        print(f"{name:<30} {each:8.1f} µs")
    print(f"{'total':<30} {total:8.1f} µs  (≈ {1e6 / total:,.0f} requests/s per core)")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests // 4):
        for call in work.values():
            call()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
