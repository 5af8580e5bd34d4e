"""The router API as the command worker uses it: the disconnect fallback (remove an active
session, see whether the router still lists one) and the ROUTER_TEST / ROUTER_SYNC commands.

Credentials come from the router's record (read in a short transaction, checked against the
command's tenant); connections are kept per router in a RouterClientPool. Failures raise
RouterError / NotFound / ValidationFailed, each with a message for the operator."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound
from easyisp_core.models import Nas
from easyisp_core.services.session_control import SessionTarget
from easyisp_core.settings import Settings
from radius_service.routers import active_sessions
from radius_service.routers.client import RouterClient
from radius_service.routers.client_pool import RouterClientPool
from radius_service.routers.connection import RouterEndpoint
from radius_service.routers.describe import describe_router
from radius_service.routers.nas_endpoint import router_endpoint
from radius_service.routers.sync import apply_changes, preview_sync
from radius_service.routers.sync_command import SyncJob, prepare_sync
from radius_service.routers.sync_preview import describe_plan

DEFAULT_TIMEOUT = 5.0
NOTHING_TO_CHANGE = "Nothing to change."
T = TypeVar("T")


class RouterOperations:
    def __init__(
        self,
        sessions: Callable[[], Session],
        box: SecretBox,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        pool: RouterClientPool | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._settings = settings
        self._timeout = timeout
        self._pool = pool or RouterClientPool()

    async def aclose(self) -> None:
        await self._pool.aclose()

    # -- the disconnect fallback (RouterApiFallback) ----------------------------------------

    async def remove_session(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool:
        client = await self._client(tenant_id, _router_of(target))
        return await client.queue.submit(
            lambda c: active_sessions.remove(c, target), retry_if_dropped=True
        )

    async def session_listed(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool:
        client = await self._client(tenant_id, _router_of(target))
        found = await client.queue.submit(
            lambda c: active_sessions.listed(c, target), retry_if_dropped=True
        )
        return bool(found)

    # -- ROUTER_TEST / ROUTER_SYNC (RouterTasks) --------------------------------------------

    async def test_router(self, tenant_id: uuid.UUID, nas_id: uuid.UUID) -> str:
        client = await self._client(tenant_id, nas_id)
        return describe_router(await client.test_connection())

    async def sync_router(
        self, tenant_id: uuid.UUID, nas_id: uuid.UUID, *, apply: bool, resend_secret: bool = False
    ) -> str:
        """The readable plan, one change per line; applied first when `apply`."""
        job = await self._db(lambda s: self._sync_job(s, tenant_id, nas_id))
        client = await self._pool.client(nas_id, job.endpoint)
        changes = await preview_sync(client, job.desired, resend_secrets=resend_secret)
        if not changes:
            return NOTHING_TO_CHANGE
        lines = "\n".join(describe_plan(changes))
        if not apply:
            return lines
        await apply_changes(client, changes)
        return f"Applied {len(changes)} changes:\n{lines}"

    # -- helpers ----------------------------------------------------------------------------

    async def _client(self, tenant_id: uuid.UUID, nas_id: uuid.UUID) -> RouterClient:
        endpoint = await self._db(lambda s: self._endpoint(s, tenant_id, nas_id))
        return await self._pool.client(nas_id, endpoint)

    def _endpoint(
        self, session: Session, tenant_id: uuid.UUID, nas_id: uuid.UUID
    ) -> RouterEndpoint:
        nas = _router(session, tenant_id, nas_id)
        return self._with_timeout(router_endpoint(session, self._box, nas))

    def _sync_job(self, session: Session, tenant_id: uuid.UUID, nas_id: uuid.UUID) -> SyncJob:
        _router(session, tenant_id, nas_id)
        job = prepare_sync(session, self._box, self._settings, nas_id)
        return dataclasses.replace(job, endpoint=self._with_timeout(job.endpoint))

    def _with_timeout(self, endpoint: RouterEndpoint) -> RouterEndpoint:
        # The same endpoint for every operation, so the pool keeps one connection per router.
        return dataclasses.replace(endpoint, timeout=self._timeout)

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._sessions() as session, session.begin():
                return work(session)

        return await asyncio.to_thread(run)


def _router(session: Session, tenant_id: uuid.UUID, nas_id: uuid.UUID) -> Nas:
    nas = session.get(Nas, nas_id)
    if nas is None or nas.tenant_id != tenant_id:
        raise NotFound("No such router.")
    return nas


def _router_of(target: SessionTarget) -> uuid.UUID:
    if target.nas_id is None:
        raise NotFound(f"The router of {target.label} is no longer registered.")
    return target.nas_id
