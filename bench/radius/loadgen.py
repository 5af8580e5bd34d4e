"""RADIUS load generator: PAP Access-Requests (with Message-Authenticator) or accounting
Start/Stop records, at a fixed concurrency, against any RADIUS server.

    .venv/bin/python bench/radius/loadgen.py auth --server 127.0.0.1:1812 --secret S \\
        --users users.txt --concurrency 16 --seconds 10
    .venv/bin/python bench/radius/loadgen.py acct --server 127.0.0.1:1813 --secret S \\
        --users users.txt --concurrency 64 --seconds 10

`users.txt` has one `username<TAB>password` per line. Each of the C workers has its own UDP
socket and one request outstanding (a closed loop, like C busy routers); a request is
answered or times out after --timeout seconds and is counted lost (no retransmission, so
latency is the server's). Prints one JSON line: requests/s, p50/p99 latency in ms, accepts,
rejects, timeouts. For accounting, an answered request is a durable record (RFC 2866: the
server answers only once it has stored it).

Packets are built by hand (no pyrad) so the generator stays cheap next to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, NAS_PORT = 1, 2, 4, 5
SERVICE_TYPE, FRAMED_PROTOCOL, CALLING_STATION_ID, NAS_IDENTIFIER = 6, 7, 31, 32
ACCT_STATUS_TYPE, ACCT_SESSION_ID, ACCT_SESSION_TIME = 40, 44, 46
ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS, NAS_PORT_TYPE = 42, 43, 61
MESSAGE_AUTHENTICATOR = 80


def attribute(kind: int, value: bytes) -> bytes:
    return bytes((kind, len(value) + 2)) + value


def integer(kind: int, value: int) -> bytes:
    return attribute(kind, struct.pack("!I", value))


def hide(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """RFC 2865 §5.2 User-Password."""
    padded = password + bytes((-len(password) % 16) or (0 if password else 16))
    out, last = b"", authenticator
    for i in range(0, len(padded), 16):
        key = hashlib.md5(secret + last).digest()  # noqa: S324 (RFC 2865 says MD5)
        block = bytes(a ^ b for a, b in zip(padded[i : i + 16], key, strict=True))
        out += block
        last = block
    return out


def access_request(ident: int, user: bytes, password: bytes, secret: bytes) -> bytes:
    authenticator = os.urandom(16)
    attrs = (
        attribute(USER_NAME, user)
        + attribute(USER_PASSWORD, hide(password, secret, authenticator))
        + integer(SERVICE_TYPE, 2)  # Framed-User
        + integer(FRAMED_PROTOCOL, 1)  # PPP
        + attribute(NAS_IP_ADDRESS, socket.inet_aton("127.0.0.1"))
        + integer(NAS_PORT_TYPE, 15)  # Ethernet (PPPoE)
        + attribute(CALLING_STATION_ID, b"AA:BB:CC:00:00:01")
    )
    placeholder = attribute(MESSAGE_AUTHENTICATOR, bytes(16))
    length = 20 + len(placeholder) + len(attrs)
    header = struct.pack("!BBH", ACCESS_REQUEST, ident, length) + authenticator
    mac = hmac.new(secret, header + placeholder + attrs, "md5").digest()
    return header + attribute(MESSAGE_AUTHENTICATOR, mac) + attrs


def accounting_request(ident: int, user: bytes, session_id: bytes, secret: bytes) -> bytes:
    attrs = (
        integer(ACCT_STATUS_TYPE, 2)  # Stop: a whole session in one record
        + attribute(USER_NAME, user)
        + attribute(ACCT_SESSION_ID, session_id)
        + attribute(NAS_IP_ADDRESS, socket.inet_aton("127.0.0.1"))
        + integer(NAS_PORT, 1)
        + integer(ACCT_SESSION_TIME, 600)
        + integer(ACCT_INPUT_OCTETS, 123_456)
        + integer(ACCT_OUTPUT_OCTETS, 7_654_321)
        + attribute(CALLING_STATION_ID, b"AA:BB:CC:00:00:01")
    )
    length = 20 + len(attrs)
    header = struct.pack("!BBH", ACCOUNTING_REQUEST, ident, length)
    authenticator = hashlib.md5(header + bytes(16) + attrs + secret).digest()  # noqa: S324
    return header + authenticator + attrs


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: asyncio.Future[bytes] | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(data)


async def worker(
    mode: str,
    server: tuple[str, int],
    secret: bytes,
    users: list[tuple[bytes, bytes]],
    deadline: float,
    timeout: float,
    results: Results,
    seq: int,
) -> None:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Socket, remote_addr=server)
    rng = random.Random(seq)
    ident, n = 0, 0
    try:
        while time.perf_counter() < deadline:
            user, password = users[rng.randrange(len(users))]
            ident = (ident + 1) & 0xFF
            n += 1
            if mode == "auth":
                packet = access_request(ident, user, password, secret)
            else:
                session_id = f"bench-{os.getpid()}-{seq}-{n}-{time.time_ns()}".encode()
                packet = accounting_request(ident, user, session_id, secret)
            proto.waiting = loop.create_future()
            sent = time.perf_counter()
            transport.sendto(packet)
            try:
                reply = await asyncio.wait_for(proto.waiting, timeout)
            except TimeoutError:
                results.timeouts += 1
                continue
            results.latencies.append(time.perf_counter() - sent)
            results.codes[reply[0]] = results.codes.get(reply[0], 0) + 1
    finally:
        transport.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


async def run(
    mode: str,
    server: tuple[str, int],
    secret: bytes,
    users: list[tuple[bytes, bytes]],
    concurrency: int,
    seconds: float,
    timeout: float,
) -> dict[str, float | int | str]:
    results = Results()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            worker(mode, server, secret, users, deadline, timeout, results, i)
            for i in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(results.latencies)
    answered = len(latencies)
    return {
        "mode": mode,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "answered": answered,
        "per_second": round(answered / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "accept": results.codes.get(ACCESS_ACCEPT, 0),
        "reject": results.codes.get(ACCESS_REJECT, 0),
        "acct_response": results.codes.get(ACCOUNTING_RESPONSE, 0),
        "timeouts": results.timeouts,
    }


def read_users(path: str) -> list[tuple[bytes, bytes]]:
    users = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            name, _, password = line.rstrip("\n").partition("\t")
            if name:
                users.append((name.encode(), password.encode()))
    if not users:
        raise SystemExit(f"{path}: no users")
    return users


def parse_server(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["auth", "acct"])
    parser.add_argument("--server", required=True, help="HOST:PORT")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--users", required=True, help="file of username<TAB>password lines")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    outcome = asyncio.run(
        run(
            args.mode,
            parse_server(args.server),
            args.secret.encode(),
            read_users(args.users),
            args.concurrency,
            args.seconds,
            args.timeout,
        )
    )
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
