"""The listener's small parts: address parsing and the rate-limited unknown-client log."""

from __future__ import annotations

import logging

import pytest

from easyisp_core.settings import Settings
from radius_service.radius.clients import ClientTable, UnknownSourceLog
from radius_service.radius.listener import (
    DEFAULT_AUTH_ADDR,
    auth_address,
    parse_address,
)

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (what the default means)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:1645", ("127.0.0.1", 1645)),
        ("10.0.0.1", ("10.0.0.1", 1812)),
        (":0", (ALL_INTERFACES, 0)),
        ("[::1]:1812", ("::1", 1812)),
        ("[::]", ("::", 1812)),
        ("off", None),
        ("OFF", None),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int] | None) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host:port", "1.2.3.4:70000", "[::1]x"])
def test_parse_address_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_address(text)


def test_the_auth_address_defaults_to_every_interface_on_1812() -> None:
    assert auth_address(None) == DEFAULT_AUTH_ADDR == (ALL_INTERFACES, 1812)
    assert auth_address("off") is None
    assert auth_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert auth_address(Settings().radius_auth_addr) == DEFAULT_AUTH_ADDR


def test_unknown_sources_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    unknown = UnknownSourceLog(interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        assert unknown.report("192.0.2.1")
        assert not unknown.report("192.0.2.1")
        assert not unknown.report("192.0.2.1")
        assert unknown.report("192.0.2.2")
        now[0] += 61
        assert unknown.report("192.0.2.1")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "(2 more since the last report)" in messages[-1]


def test_the_client_table_matches_inet_and_ipv4_mapped_spellings() -> None:
    from uuid import uuid4

    from easyisp_core.services.radius_auth import NasClient

    client = NasClient(uuid4(), uuid4(), "r1", "10.1.2.3/32", b"secret", True)
    table = ClientTable([client])
    assert table.lookup("10.1.2.3") is client
    assert table.lookup("::ffff:10.1.2.3") is client
    assert table.lookup("10.1.2.4") is None


def test_a_router_is_known_by_its_tunnel_address_too_but_never_shadows_another() -> None:
    from uuid import uuid4

    from easyisp_core.services.radius_auth import NasClient

    tunnelled = NasClient(uuid4(), uuid4(), "hill", "198.51.100.7", b"s1", True, "10.10.0.2")
    clash = NasClient(uuid4(), uuid4(), "shop", "10.10.0.2", b"s2", True, "10.10.0.3")
    table = ClientTable(iter([tunnelled, clash]))
    assert table.lookup("198.51.100.7") is tunnelled
    assert table.lookup("10.10.0.3") is clash
    assert table.lookup("10.10.0.2") is clash  # a registered address wins
