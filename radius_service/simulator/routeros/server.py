"""The RouterOS API simulator's TCP server (8728, optional API-SSL 8729): login (plain and the
pre-6.43 MD5 challenge), `.tag` echo, `!re`/`!done`/`!trap`/`!fatal`/`!empty`, `/cancel`,
`/quit`, and fault injection for tests. A bad client never affects the others."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from radius_service.simulator.routeros.state import RouterState, Trap
from radius_service.simulator.routeros.wire import SentenceDecoder, WireError, encode_sentence

log = logging.getLogger(__name__)

Address = tuple[str, int]
# Before login RouterOS limits what a client may send; after login the limits are generous.
_PRELOGIN_MAX_WORD = 16 * 1024
_MAX_WORD = 1 << 20
_LOGIN_FAILED = "invalid user name or password (6)"


@dataclass
class Faults:
    """Switches a test flips to make the router misbehave (read by the server on each command)."""

    stall: bool = False  # read commands (login included) but never answer them
    drop_next_replies: int = 0  # run the next N commands, send half the reply, then hang up
    refuse_login: bool = False  # every login fails as if the password were wrong


@dataclass
class _Session:
    peer: str
    logged_in: bool = False
    # The user's group has the `sensitive` policy: prints show secrets and passwords.
    sensitive: bool = False
    challenge: bytes | None = None
    # Commands still running (stalled ones, `listen`s): tag and how to stop it.
    running: list[tuple[str | None, Callable[[], None] | None]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Request:
    command: str
    tag: str | None
    attributes: dict[str, str]
    queries: list[str]


class _HangUp(Exception):
    """Close this client's connection now."""


class RouterSimulator:
    """Start/stop controller: `await start()` binds, `address`/`tls_address` say where."""

    def __init__(
        self,
        state: RouterState,
        *,
        listen: Address = ("127.0.0.1", 0),
        tls_listen: Address | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.state = state
        self.faults = Faults()
        self.logins = 0  # successful logins, so tests can see a reconnect happen
        self.commands: deque[str] = deque(maxlen=1000)  # recent commands, for tests and logs
        self._listen = listen
        self._tls_listen = tls_listen
        self._tls_context = tls_context
        self._servers: list[asyncio.Server] = []
        self._clients: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self.address: Address | None = None
        self.tls_address: Address | None = None

    @property
    def connected(self) -> int:
        """Client connections open right now (tests see concurrent pollers with it)."""
        return len(self._clients)

    async def start(self) -> Address:
        """Bind; a restart after stop() binds the same port(s) again."""
        server = await asyncio.start_server(self._accept, *(self.address or self._listen))
        self._servers.append(server)
        self.address = server.sockets[0].getsockname()[:2]
        if self._tls_listen is not None:
            if self._tls_context is None:
                raise ValueError("API-SSL needs a TLS context")
            tls_listen = self.tls_address or self._tls_listen
            tls = await asyncio.start_server(self._accept, *tls_listen, ssl=self._tls_context)
            self._servers.append(tls)
            self.tls_address = tls.sockets[0].getsockname()[:2]
        return self.address

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        # Hanging up ends each client's read loop; cancelling would log from asyncio's callback.
        for writer in list(self._clients.values()):
            writer.transport.abort()
        await asyncio.gather(*self._clients, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def serve_forever(self) -> None:
        await asyncio.gather(*(server.serve_forever() for server in self._servers))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients[task] = writer
        session = _Session(peer=str(writer.get_extra_info("peername")))
        decoder = SentenceDecoder(max_word=_PRELOGIN_MAX_WORD)
        try:
            while data := await reader.read(65536):
                for words in decoder.feed(data):
                    await self._handle(_parse(words), session, writer)
                    decoder.max_word = _MAX_WORD if session.logged_in else _PRELOGIN_MAX_WORD
        except WireError as exc:
            log.info("routeros-sim: dropping %s: %s", session.peer, exc)
        except (_HangUp, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except Exception:  # a bug in one session must not leave the client hanging silently
            log.exception("routeros-sim: session with %s failed", session.peer)
        finally:
            for _, stop in session.running:
                if stop is not None:
                    stop()
            self._clients.pop(task, None)
            writer.close()  # flushes a last !fatal before hanging up

    async def _handle(
        self, request: _Request, session: _Session, writer: asyncio.StreamWriter
    ) -> None:
        if request.command == "/quit":
            await _send(writer, [["!fatal", "session terminated on request"]])
            raise _HangUp
        if request.command == "/cancel":
            await _send(writer, _cancel(request, session))
            return
        if self.faults.stall:
            session.running.append((request.tag, None))
            return
        if request.command == "/login":
            await _send(writer, self._login(request, session))
            return
        if not session.logged_in:
            await _send(writer, [["!fatal", "not logged in"]])
            raise _HangUp
        self.commands.append(request.command)
        if request.command.endswith("/listen"):
            self._stream_changes(request, session, writer)
            return
        reply = self._execute(request, session)
        if self.faults.drop_next_replies > 0:
            self.faults.drop_next_replies -= 1
            raw = b"".join(encode_sentence(sentence) for sentence in reply)
            writer.write(raw[: max(1, len(raw) // 2)])
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            raise _HangUp
        await _send(writer, reply)

    def _execute(self, request: _Request, session: _Session) -> list[list[str]]:
        tag = _tag_word(request.tag)
        try:
            result = self.state.execute(
                request.command, request.attributes, request.queries, sensitive=session.sensitive
            )
        except Trap as trap:
            return [_trap(trap, tag), ["!done", *tag]]
        sentences = [
            ["!re", *tag, *(f"={name}={value}" for name, value in row.items())]
            for row in result.rows
        ]
        if not result.rows and request.command.endswith("/print") and self.state.sends_empty:
            sentences.append(["!empty", *tag])
        done = ["!done", *tag]
        if result.ret is not None:
            done.append(f"=ret={result.ret}")
        return [*sentences, done]

    def _stream_changes(
        self, request: _Request, session: _Session, writer: asyncio.StreamWriter
    ) -> None:
        """Stream each change of the menu as `!re` until `/cancel` (or a trap right away)."""
        loop = asyncio.get_running_loop()
        tag = _tag_word(request.tag)

        def push(row: dict[str, str]) -> None:
            words = ["!re", *tag, *(f"={name}={value}" for name, value in row.items())]
            loop.call_soon_threadsafe(_write_if_open, writer, encode_sentence(words))

        try:
            stop = self.state.subscribe(request.command.removesuffix("/listen"), push)
        except Trap as trap:
            writer.write(encode_sentence(_trap(trap, tag)) + encode_sentence(["!done", *tag]))
            return
        session.running.append((request.tag, stop))

    def _login(self, request: _Request, session: _Session) -> list[list[str]]:
        tag = _tag_word(request.tag)
        name = request.attributes.get("name")
        password = request.attributes.get("password")
        response = request.attributes.get("response")
        legacy = self.state.version_tuple < (6, 43)
        if legacy and response is None:
            # Pre-6.43 answers any other /login with a challenge (protocols.md §2.4).
            session.challenge = os.urandom(16)
            return [["!done", *tag, f"=ret={session.challenge.hex()}"]]
        accepted = False
        if name is not None and not self.faults.refuse_login:
            if legacy and response is not None:
                accepted = self._challenge_answered(name, response, session.challenge)
            elif not legacy and password is not None:
                accepted = self.state.check_login(name, password)
        session.challenge = None
        if not accepted:
            return [_trap(Trap(_LOGIN_FAILED), tag), ["!done", *tag]]
        session.logged_in = True
        session.sensitive = self.state.has_policy(name or "", "sensitive")
        self.logins += 1
        return [["!done", *tag]]

    def _challenge_answered(self, name: str, response: str, challenge: bytes | None) -> bool:
        password = self.state.password_of(name)
        if password is None or challenge is None:
            return False
        digest = hashlib.md5(b"\x00" + password.encode() + challenge, usedforsecurity=False)
        expected = "00" + digest.hexdigest()
        return hmac.compare_digest(response.encode(), expected.encode())


def _parse(words: Sequence[bytes]) -> _Request:
    text = [word.decode("utf-8", errors="replace") for word in words]
    tag = None
    attributes: dict[str, str] = {}
    queries: list[str] = []
    for word in text[1:]:
        if word.startswith(".tag="):
            tag = word[5:]
        elif word.startswith("="):
            name, _, value = word[1:].partition("=")
            attributes[name] = value
        elif word.startswith("?"):
            queries.append(word)
    return _Request(text[0], tag, attributes, queries)


def _tag_word(tag: str | None) -> list[str]:
    return [] if tag is None else [f".tag={tag}"]


def _trap(trap: Trap, tag: list[str]) -> list[str]:
    words = ["!trap", *tag]
    if trap.category is not None:
        words.append(f"=category={trap.category}")
    words.append(f"=message={trap.message}")
    return words


def _cancel(request: _Request, session: _Session) -> list[list[str]]:
    """Stop running commands (all, or the one with `=tag=`): each ends with a trap."""
    wanted = request.attributes.get("tag")
    cancelled = [item for item in session.running if wanted is None or item[0] == wanted]
    session.running = [item for item in session.running if item not in cancelled]
    replies: list[list[str]] = []
    for tag, stop in cancelled:
        if stop is not None:
            stop()
        words = _tag_word(tag)
        replies += [_trap(Trap("interrupted", 2), words), ["!done", *words]]
    return [*replies, ["!done", *_tag_word(request.tag)]]


def _write_if_open(writer: asyncio.StreamWriter, data: bytes) -> None:
    if not writer.is_closing():
        writer.write(data)


async def _send(writer: asyncio.StreamWriter, sentences: list[list[str]]) -> None:
    writer.write(b"".join(encode_sentence(sentence) for sentence in sentences))
    await writer.drain()
