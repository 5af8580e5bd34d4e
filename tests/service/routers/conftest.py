"""The RouterOS simulator on its own loop thread, and RouterClients pointed at it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from radius_service.routers.client import RouterClient
from radius_service.routers.connection import RouterEndpoint
from radius_service.routers.queue import RouterCommandQueue
from radius_service.simulator.routeros.controller import SimulatorThread
from radius_service.simulator.routeros.wire import SentenceDecoder, encode_sentence

T = TypeVar("T")
USER = "admin"
PASSWORD = "admin-pass"
VERSIONS = ["6.49.10", "7.16"]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture
def start_sim() -> Iterator[Callable[..., SimulatorThread]]:
    started: list[SimulatorThread] = []

    def start(version: str = "7.16", **options: Any) -> SimulatorThread:
        sim = SimulatorThread(version, users={USER: PASSWORD}, **options).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def endpoint_for(
    address: tuple[str, int],
    *,
    user: str = USER,
    password: str = PASSWORD,
    timeout: float = 5.0,
    **options: Any,
) -> RouterEndpoint:
    return RouterEndpoint(
        name="sim",
        host=address[0],
        port=address[1],
        username=user,
        password=password,
        timeout=timeout,
        **options,
    )


def client_for(endpoint: RouterEndpoint, *, connect_attempts: int = 1) -> RouterClient:
    """Backoff is shortened so failure tests stay quick; nothing asserts on timing."""
    queue = RouterCommandQueue(endpoint, connect_attempts=connect_attempts, backoff_initial=0.01)
    return RouterClient(endpoint, queue=queue)


class RawClient:
    """Speaks the wire protocol by hand, for replies librouteros hides (.tag, !empty …)."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.create_connection(address, timeout=5)
        self.decoder = SentenceDecoder()
        self.pending: list[list[str]] = []

    def send(self, *words: str) -> None:
        self.sock.sendall(encode_sentence(words))

    def sentence(self) -> list[str] | None:
        """The next reply sentence, or None when the router hung up."""
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.pending += [[word.decode() for word in words] for words in self.decoder.feed(data)]
        return self.pending.pop(0)

    def until_done(self) -> list[list[str]]:
        sentences = []
        while True:
            sentence = self.sentence()
            assert sentence is not None, "connection closed before !done"
            sentences.append(sentence)
            if sentence[0] == "!done":
                return sentences

    def login(self) -> None:
        self.send("/login", f"=name={USER}", f"=password={PASSWORD}")
        assert self.until_done() == [["!done"]]

    def close(self) -> None:
        self.sock.close()
