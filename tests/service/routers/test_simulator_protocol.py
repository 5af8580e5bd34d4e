"""The simulator's protocol details by hand: .tag, traps, !empty, /cancel, /quit, !fatal, and
a server that survives any garbage while serving other clients."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator

import librouteros
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radius_service.simulator.routeros.controller import SimulatorThread
from radius_service.simulator.routeros.sessions import add_ppp_session
from tests.service.routers.conftest import PASSWORD, USER, RawClient

Start = Callable[..., SimulatorThread]


def test_tag_is_echoed_on_every_reply(start_sim: Start) -> None:
    sim = start_sim("7.16", sessions=2)
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/ppp/active/print", "=.proplist=name", ".tag=7")
    assert raw.until_done() == [
        ["!re", ".tag=7", "=name=ppp0001"],
        ["!re", ".tag=7", "=name=ppp0002"],
        ["!done", ".tag=7"],
    ]
    raw.close()


def test_add_returns_the_new_id_in_done(start_sim: Start) -> None:
    sim = start_sim("6.49.10")
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/ip/pool/add", "=name=p1", "=ranges=10.0.0.2-10.0.0.9")
    assert raw.until_done() == [["!done", "=ret=*1"]]
    raw.close()


def test_unknown_commands_trap_with_category_then_done(start_sim: Start) -> None:
    sim = start_sim("6.49.10")
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/interface/wireguard/print")
    assert raw.until_done() == [
        ["!trap", "=category=0", "=message=no such command prefix"],
        ["!done"],
    ]
    raw.send("/ppp/active/add", "=name=x")
    assert raw.until_done()[0] == ["!trap", "=category=0", "=message=no such command"]
    raw.close()


@pytest.mark.parametrize(("version", "empty"), [("7.16", False), ("7.18", True), ("7.19", True)])
def test_empty_print_sends_empty_from_718(start_sim: Start, version: str, empty: bool) -> None:
    sim = start_sim(version)
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/ppp/active/print", ".tag=a")
    expected = [["!empty", ".tag=a"], ["!done", ".tag=a"]] if empty else [["!done", ".tag=a"]]
    assert raw.until_done() == expected
    raw.close()


def test_queries_with_stack_operations(start_sim: Start) -> None:
    sim = start_sim("7.16", sessions=4)
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/ppp/active/print", "=.proplist=name", "?name=ppp0001", "?name=ppp0003", "?#|")
    assert [s[1] for s in raw.until_done()[:-1]] == ["=name=ppp0001", "=name=ppp0003"]
    raw.send("/ppp/active/print", "=.proplist=name", "?=name=ppp0001", "?#!")
    assert len(raw.until_done()) == 4
    raw.send("/ppp/active/print", "?#|")
    assert raw.until_done()[0][0] == "!trap"
    raw.close()


def test_commands_before_login_are_fatal(start_sim: Start) -> None:
    sim = start_sim("7.16")
    raw = RawClient(sim.address)
    raw.send("/ppp/active/print")
    assert raw.sentence() == ["!fatal", "not logged in"]
    assert raw.sentence() is None
    raw.close()


def test_quit_ends_the_session_with_fatal(start_sim: Start) -> None:
    sim = start_sim("7.16")
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/quit")
    assert raw.sentence() == ["!fatal", "session terminated on request"]
    assert raw.sentence() is None
    raw.close()


def test_cancel_interrupts_a_stalled_command(start_sim: Start) -> None:
    sim = start_sim("7.16")
    raw = RawClient(sim.address)
    raw.login()
    sim.simulator.faults.stall = True
    raw.send("/ppp/active/print", ".tag=slow")
    raw.send("/cancel", "=tag=slow", ".tag=c")
    assert raw.until_done() == [
        ["!trap", ".tag=slow", "=category=2", "=message=interrupted"],
        ["!done", ".tag=slow"],
    ]
    assert raw.until_done() == [["!done", ".tag=c"]]
    raw.close()


def test_legacy_login_challenge_on_routeros_before_643(start_sim: Start) -> None:
    sim = start_sim("6.40.9")
    raw = RawClient(sim.address)
    raw.send("/login")
    done = raw.until_done()[0]
    assert done[0] == "!done"
    assert done[1].startswith("=ret=")
    assert len(done[1]) == len("=ret=") + 32
    raw.send("/login", f"=name={USER}", "=response=00" + "0" * 32)
    assert raw.until_done()[0] == ["!trap", "=message=invalid user name or password (6)"]
    raw.close()


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimulatorThread]:
    sim = SimulatorThread("7.16", users={USER: PASSWORD}, sessions=2).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def bystander(shared_sim: SimulatorThread) -> Iterator[object]:
    """A well-behaved client logged in for the whole fuzz run."""
    host, port = shared_sim.address
    api = librouteros.connect(host, USER, PASSWORD, port=port, timeout=5)
    yield api
    api.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.binary(min_size=1, max_size=600), log_in_first=st.booleans())
def test_garbage_never_stops_the_server_serving_others(
    shared_sim: SimulatorThread, bystander: object, garbage: bytes, log_in_first: bool
) -> None:
    raw = RawClient(shared_sim.address)
    if log_in_first:
        raw.login()
    with contextlib.suppress(OSError):
        raw.sock.sendall(garbage)
        raw.sock.shutdown(socket.SHUT_WR)
        raw.sock.settimeout(0.5)
        # Whatever comes back must be well-formed; the server may also just hang up.
        with contextlib.suppress(TimeoutError):
            while raw.sentence() is not None:
                pass
    raw.close()
    rows = list(bystander("/ppp/active/print", **{".proplist": "name"}))  # type: ignore[operator]
    assert [row["name"] for row in rows] == ["ppp0001", "ppp0002"]


@pytest.fixture(scope="module")
def legacy_sim() -> Iterator[SimulatorThread]:
    sim = SimulatorThread("6.40.9", users={USER: PASSWORD}, sessions=2).start()
    yield sim
    sim.stop()


_command_words = st.sampled_from(
    ["/login", "/cancel", "/ppp/active/print", "/ppp/active/remove", "/ip/pool/add",
     "/ppp/aaa/set", "/interface/wireguard/add", "/user/set", "/nope", "!done", ""]
) | st.text(min_size=1, max_size=20)  # fmt: skip
_argument_words = st.sampled_from(
    ["=.id=*1", "=name=admin", "=password=admin-pass", "=response=00", ".tag=1", "?#|",
     "=.proplist=.id", "=numbers=", "=tag=1", "?name", "=="]
) | st.text(min_size=1, max_size=20)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sentences=st.lists(
        st.tuples(_command_words, st.lists(_argument_words, max_size=5)), min_size=1, max_size=6
    ),
    log_in_first=st.booleans(),
)
def test_well_framed_nonsense_gets_well_formed_replies(
    legacy_sim: SimulatorThread,
    sentences: list[tuple[str, list[str]]],
    log_in_first: bool,
) -> None:
    raw = RawClient(legacy_sim.address)
    if log_in_first:
        raw.send("/login")
        challenge = raw.until_done()[0][1].removeprefix("=ret=")
        raw.send("/login", f"=name={USER}", "=response=" + _md5_response(challenge))
        assert raw.until_done() == [["!done"]]
    # Before login the first command is fatal and the router hangs up; sends may then fail.
    with contextlib.suppress(OSError):
        for command, arguments in sentences:
            if command:  # an empty first word would only end the sentence
                raw.send(command, *arguments)
        raw.send("/quit")
    raw.sock.settimeout(5)
    replies = []
    reset = False
    try:
        while (sentence := raw.sentence()) is not None:
            replies.append(sentence)
    except ConnectionResetError:
        reset = True  # our unread sentences reached a closed socket; the kernel may drop replies
    raw.close()
    assert all(reply[0] in {"!re", "!done", "!trap", "!fatal", "!empty"} for reply in replies)
    assert reset or replies[-1][0] == "!fatal"
    probe = RawClient(legacy_sim.address)
    probe.send("/login")
    assert probe.until_done()[0][0] == "!done"
    probe.close()


def _md5_response(challenge_hex: str) -> str:
    import hashlib

    digest = hashlib.md5(
        b"\x00" + PASSWORD.encode() + bytes.fromhex(challenge_hex), usedforsecurity=False
    )
    return "00" + digest.hexdigest()


def test_listen_streams_changes_until_cancelled(start_sim: Start) -> None:
    sim = start_sim("7.16")
    raw = RawClient(sim.address)
    raw.login()
    raw.send("/ppp/active/listen", ".tag=live")
    raw.send("/ip/pool/print", ".tag=p")  # the router keeps answering other commands meanwhile
    assert raw.until_done() == [["!done", ".tag=p"]]
    session_id = add_ppp_session(sim.state, "alice")
    added = raw.sentence()
    assert added is not None
    assert added[:3] == ["!re", ".tag=live", f"=.id={session_id}"]
    assert "=name=alice" in added
    sim.state.execute("/ppp/active/remove", {".id": session_id})
    assert raw.sentence() == ["!re", ".tag=live", f"=.id={session_id}", "=.dead=true"]
    raw.send("/cancel", "=tag=live")
    assert raw.until_done() == [
        ["!trap", ".tag=live", "=category=2", "=message=interrupted"],
        ["!done", ".tag=live"],
    ]
    assert raw.until_done() == [["!done"]]
    add_ppp_session(sim.state, "bob")  # no longer streamed
    raw.send("/system/identity/print")
    assert raw.until_done() == [["!re", "=name=MikroTik"], ["!done"]]
    raw.close()
