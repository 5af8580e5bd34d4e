"""Router sync as one job: load what the router should hold from the database, connect with
its stored credentials, plan, and (unless previewing) apply. Used by `easyisp nas sync` and
by the service's command worker for ROUTER_SYNC commands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import NotFound
from easyisp_core.models import Nas
from easyisp_core.settings import Settings
from radius_service.routers.client import RouterClient
from radius_service.routers.connection import RouterEndpoint
from radius_service.routers.desired_inputs import load_desired_state
from radius_service.routers.desired_state import RouterDesiredState
from radius_service.routers.nas_endpoint import router_endpoint
from radius_service.routers.portal import portal_target
from radius_service.routers.sync import apply_changes, preview_sync
from radius_service.routers.sync_plan import RouterChange
from radius_service.routers.sync_preview import describe_plan


@dataclass(frozen=True, slots=True)
class SyncJob:
    router: str
    endpoint: RouterEndpoint
    desired: RouterDesiredState


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    router: str
    changes: list[RouterChange]
    applied: bool

    @property
    def plan_lines(self) -> list[str]:
        return describe_plan(self.changes)

    @property
    def summary(self) -> str:
        count = len(self.changes)
        if not count:
            return f"Router {self.router} already matches; nothing changed."
        noun = "change" if count == 1 else "changes"
        if self.applied:
            return f"Router {self.router}: {count} {noun} applied."
        return f"Router {self.router}: {count} {noun} planned, none applied (dry run)."


def prepare_sync(
    session: Session, box: SecretBox, settings: Settings, nas_id: uuid.UUID
) -> SyncJob:
    """Everything the sync needs from the database, read in the caller's transaction (the
    secret reads are audited there); the router itself is not contacted."""
    nas = session.get(Nas, nas_id)
    if nas is None:
        raise NotFound("No such router.")
    portal = portal_target(settings)
    desired = load_desired_state(
        session, box, nas_id, portal_host=portal.host, portal_address=portal.address
    )
    return SyncJob(nas.name, router_endpoint(session, box, nas), desired)


async def execute_sync(
    job: SyncJob,
    *,
    apply: bool = True,
    client: RouterClient | None = None,
    resend_secrets: bool = False,
) -> SyncOutcome:
    """Plan against the router's current configuration and apply unless `apply` is False."""
    own = client is None
    client = client or RouterClient(job.endpoint)
    try:
        changes = await preview_sync(client, job.desired, resend_secrets=resend_secrets)
        if apply and changes:
            await apply_changes(client, changes)
    finally:
        if own:
            await client.close()
    return SyncOutcome(job.router, changes, apply and bool(changes))


async def run_router_sync(
    sessions: sessionmaker[Session], box: SecretBox, settings: Settings, nas_id: uuid.UUID
) -> str:
    """For the ROUTER_SYNC command: the short result text to record. Failures are raised
    (RouterError, NotFound, ValidationFailed), each with a message for the operator."""
    with session_scope(sessions) as session:
        job = prepare_sync(session, box, settings, nas_id)
    outcome = await execute_sync(job)
    return outcome.summary
