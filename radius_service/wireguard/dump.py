"""Parse `wg show <interface> dump` (tab-separated; protocols.md §5.3) into peer stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class PeerStats:
    public_key: str
    endpoint: str | None
    last_handshake_at: datetime | None  # None: never
    rx_bytes: int
    tx_bytes: int


class DumpFormatError(ValueError):
    """The text is not what `wg show <if> dump` prints."""


_PEER_FIELDS = 8
_INTERFACE_FIELDS = 4


def parse_dump(text: str) -> list[PeerStats]:
    """Peers of one interface. The first line (the interface itself) is skipped; a line of
    `wg show all dump` (interface name first) is accepted too."""
    peers: list[PeerStats] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        # Interface lines: 4 fields, or 5 in `wg show all dump` (interface name first).
        if len(fields) in (_INTERFACE_FIELDS, _INTERFACE_FIELDS + 1):
            continue
        if len(fields) == _PEER_FIELDS + 1:
            fields = fields[1:]
        if len(fields) != _PEER_FIELDS:
            raise DumpFormatError(f"line {number}: {len(fields)} fields, expected {_PEER_FIELDS}")
        public_key, _psk, endpoint, _allowed, handshake, rx, tx, _keepalive = fields
        try:
            seconds, rx_bytes, tx_bytes = int(handshake), int(rx), int(tx)
        except ValueError as exc:
            raise DumpFormatError(f"line {number}: counters must be whole numbers") from exc
        peers.append(
            PeerStats(
                public_key=public_key,
                endpoint=None if endpoint == "(none)" else endpoint,
                last_handshake_at=None if seconds == 0 else datetime.fromtimestamp(seconds, UTC),
                rx_bytes=rx_bytes,
                tx_bytes=tx_bytes,
            )
        )
    return peers
