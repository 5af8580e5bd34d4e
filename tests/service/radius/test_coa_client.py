"""The RFC 5176 client against the simulated router's /radius incoming over real UDP:
what a Disconnect-/CoA-Request carries, ACK/NAK with Error-Cause as text, retransmission with
the same Identifier, and replies that must be ignored (wrong secret, wrong source)."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from radius_service import auth_methods
from radius_service.radius.coa import (
    DISCONNECT_REQUEST,
    CoaClient,
    Outcome,
    SessionRef,
    describe_error_cause,
)
from radius_service.radius.codec import decode, encode_reply
from radius_service.simulator.coa_listener import CoaListener, ListenerMode
from tests.service.test_service_process import service_env

REPO_ROOT = Path(__file__).resolve().parents[3]

SECRET = b"coa-secret-0123456789"


@pytest.fixture
def router() -> Iterator[CoaListener]:
    listener = CoaListener(SECRET)
    listener.start()
    yield listener
    listener.stop()


def ref(router: CoaListener, **overrides: object) -> SessionRef:
    values: dict[str, object] = {
        "router_ip": "127.0.0.1",
        "secret": SECRET,
        "username": "alice",
        "session_id": "81f00014",
        "framed_ip": "10.10.0.7",
        "coa_port": router.address[1],
        **overrides,
    }
    return SessionRef(**values)  # type: ignore[arg-type]


def test_disconnect_names_the_session_and_is_acked(router: CoaListener) -> None:
    router.connect("alice", "81f00014", "10.10.0.7", start=False)
    result = asyncio.run(CoaClient(timeout=2).disconnect(ref(router)))
    assert result.outcome is Outcome.ACK
    assert result.tries == 1
    assert router.sessions == {}
    (request,) = router.received
    assert request.code == DISCONNECT_REQUEST
    assert request.text("User-Name") == "alice"
    assert request.text("Acct-Session-Id") == "81f00014"
    assert request.text("Framed-IP-Address") == "10.10.0.7"
    # Message-Authenticator first (Blast-RADIUS), and the request signed over zeros.
    assert request.raw[20] == auth_methods.MESSAGE_AUTHENTICATOR
    assert auth_methods.verify_request_authenticator(request.raw, SECRET)


def test_unknown_session_is_a_nak_with_a_readable_error_cause(router: CoaListener) -> None:
    result = asyncio.run(CoaClient(timeout=2).disconnect(ref(router)))
    assert result.outcome is Outcome.NAK
    assert result.error_cause == 503
    assert result.describe() == (
        "router refused: 503 Session-Context-Not-Found (the router has no such session)"
    )


def test_coa_carries_the_new_rate_limit(router: CoaListener) -> None:
    router.connect("alice", "81f00014", "10.10.0.7", start=False)
    result = asyncio.run(CoaClient(timeout=2).change_rate_limit(ref(router), "2M/10M"))
    assert result.acked
    assert router.sessions["81f00014"].rate_limit == "2M/10M"


def test_no_answer_is_retransmitted_with_the_same_identifier(router: CoaListener) -> None:
    router.mode = ListenerMode.SILENT
    result = asyncio.run(CoaClient(timeout=0.2, tries=3).disconnect(ref(router)))
    assert result.outcome is Outcome.TIMEOUT
    assert result.describe() == "no answer from the router after 3 tries"
    assert len(router.received) == 3
    assert {packet.raw for packet in router.received} == {router.received[0].raw}
    assert router.received[0].identifier == result.identifier


def test_a_lost_answer_is_recovered_by_retransmission_without_acting_twice(
    router: CoaListener,
) -> None:
    """The router disconnected but its ACK was lost: the retransmission (same Identifier and
    authenticator, same source port) gets the same ACK, not a NAK for the gone session."""
    router.connect("alice", "81f00014", "10.10.0.7", start=False)
    router.lose_replies = 1
    result = asyncio.run(CoaClient(timeout=0.3, tries=3).disconnect(ref(router)))
    assert result.outcome is Outcome.ACK
    assert result.tries == 2
    assert [packet.raw for packet in router.received] == [router.received[0].raw] * 2


def test_nak_mode_refuses_with_the_configured_cause(router: CoaListener) -> None:
    router.connect("alice", "81f00014", "10.10.0.7", start=False)
    router.mode = ListenerMode.NAK
    router.nak_cause = 506
    result = asyncio.run(CoaClient(timeout=2).disconnect(ref(router)))
    assert result.outcome is Outcome.NAK
    assert "506 Resources-Unavailable" in result.describe()
    assert "81f00014" in router.sessions


def test_a_reply_signed_with_another_secret_is_ignored(router: CoaListener) -> None:
    """A forged ACK (right Identifier, wrong secret) must not count as an answer."""
    forger = _Forger(b"not-the-secret-at-all")
    forger.start()
    try:
        result = asyncio.run(
            CoaClient(timeout=0.3, tries=2).disconnect(ref(router, coa_port=forger.address[1]))
        )
    finally:
        forger.stop()
    assert result.outcome is Outcome.TIMEOUT
    assert forger.answered == 2


def test_error_causes_read_as_text() -> None:
    assert describe_error_cause(None) == "no Error-Cause given"
    assert describe_error_cause(402).startswith("402 Missing-Attribute")
    assert describe_error_cause(999) == "999 unknown cause"


def test_the_client_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        CoaClient(timeout=0)
    with pytest.raises(ValueError, match="tries at least 1"):
        CoaClient(tries=0)


class _Forger:
    """Answers every request with an ACK signed with the wrong secret."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.answered = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = self.sock.getsockname()
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while self._running:
            try:
                data, source = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.sock.sendto(encode_reply(41, decode(data), [], self.secret), source)
            self.answered += 1


def test_easyisp_simulate_router_coa_answers_a_disconnect(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "easyisp_cli.main",
        "simulate",
        "router-coa",
        "--listen",
        "127.0.0.1:0",
        "--secret",
        SECRET.decode(),
        "--session",
        "alice,81f00014,10.10.0.7",
        "--seconds",
        "20",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=service_env(tmp_path / "data"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        assert first.startswith("listening on 127.0.0.1:"), first + process.stderr.read()
        port = int(first.strip().rsplit(":", 1)[1])
        result = asyncio.run(
            CoaClient(timeout=2).disconnect(
                SessionRef("127.0.0.1", SECRET, "alice", "81f00014", "10.10.0.7", port)
            )
        )
        assert result.acked
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "received: [{'code': 40, 'User-Name': 'alice'}]" in out
    assert "active: []" in out
