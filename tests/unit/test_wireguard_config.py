"""The site's WireGuard files and `wg show dump` parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from radius_service.wireguard.config import SiteInterface, SitePeer, render_wg, render_wg_quick
from radius_service.wireguard.dump import DumpFormatError, PeerStats, parse_dump

DUMP = Path(__file__).resolve().parents[1] / "data" / "wireguard" / "show_dump.txt"
INTERFACE = SiteInterface("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "10.10.0.1/16", 51820)
PEERS = [
    SitePeer("HhbyDzG6loyFAsB040GvnOcRH1Ks+M44utp6REaWPxo=", "10.10.0.2"),
    SitePeer("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "fd00::3"),
]


def test_the_wg_quick_file_lists_each_peer_with_its_one_address() -> None:
    text = render_wg_quick(INTERFACE, PEERS)
    assert text == (
        "# Written by EasyISP from the ACTIVE router peers; edits are overwritten.\n"
        "\n"
        "[Interface]\n"
        "PrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n"
        "Address = 10.10.0.1/16\n"
        "ListenPort = 51820\n"
        "\n"
        "[Peer]\n"
        "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "AllowedIPs = fd00::3/128\n"
        "\n"
        "[Peer]\n"
        "PublicKey = HhbyDzG6loyFAsB040GvnOcRH1Ks+M44utp6REaWPxo=\n"
        "AllowedIPs = 10.10.0.2/32\n"
    )


def test_the_syncconf_form_drops_wg_quick_keys() -> None:
    plain = render_wg(INTERFACE, PEERS)
    assert "Address" not in plain
    assert plain == render_wg_quick(INTERFACE, PEERS).replace("Address = 10.10.0.1/16\n", "")
    assert render_wg(INTERFACE, []).count("[Peer]") == 0


def test_dump_gives_handshake_and_counters_per_peer() -> None:
    peers = parse_dump(DUMP.read_text(encoding="ascii"))
    assert peers == [
        PeerStats(
            "HhbyDzG6loyFAsB040GvnOcRH1Ks+M44utp6REaWPxo=",
            "198.51.100.7:41235",
            datetime(2025, 11, 25, 12, 0, tzinfo=UTC),
            123456,
            7890123,
        ),
        PeerStats("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", None, None, 0, 0),
    ]


def test_the_all_interfaces_form_is_read_too() -> None:
    lines = DUMP.read_text(encoding="ascii").splitlines()
    text = "\n".join("wg-easyisp\t" + line for line in lines)
    assert parse_dump(text) == parse_dump(DUMP.read_text(encoding="ascii"))


@pytest.mark.parametrize(
    "text",
    ["a\tb\tc", "key\t(none)\t(none)\t10.10.0.2/32\tsoon\t1\t2\toff"],
)
def test_garbage_is_a_clear_error(text: str) -> None:
    with pytest.raises(DumpFormatError, match="line 1"):
        parse_dump(text)
