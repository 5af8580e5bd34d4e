"""One RouterClient per router for the command worker, kept open between commands (one login,
not one per command) and replaced when the router's address or credentials change.

The health job keeps its own clients: its polls give up after one connect attempt and are
abandoned when stuck, which a disconnect or a sync must not inherit; a second, read-mostly
API connection per router is well within what RouterOS allows."""

from __future__ import annotations

import asyncio
import logging
import uuid

from radius_service.routers.client import RouterClient
from radius_service.routers.connection import RouterEndpoint
from radius_service.routers.queue import RouterCommandQueue

log = logging.getLogger(__name__)

CONNECT_ATTEMPTS = 2


class RouterClientPool:
    def __init__(self, *, connect_attempts: int = CONNECT_ATTEMPTS) -> None:
        self._connect_attempts = connect_attempts
        self._clients: dict[uuid.UUID, RouterClient] = {}

    async def client(self, nas_id: uuid.UUID, endpoint: RouterEndpoint) -> RouterClient:
        current = self._clients.get(nas_id)
        if current is not None and current.endpoint == endpoint:
            return current
        queue = RouterCommandQueue(endpoint, connect_attempts=self._connect_attempts)
        self._clients[nas_id] = RouterClient(endpoint, queue=queue)
        if current is not None:
            await _close(current)  # after the swap: callers meanwhile get the new client
        return self._clients[nas_id]

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        await asyncio.gather(*(_close(client) for client in clients))


async def _close(client: RouterClient) -> None:
    try:
        await client.close()
    except Exception as exc:
        log.debug("closing the connection to router %s failed: %s", client.endpoint.name, exc)
