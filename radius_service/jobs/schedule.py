"""Which periodic jobs the site service runs, and how they end at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import Database
from easyisp_core.settings import Settings
from radius_service.jobs import Job
from radius_service.jobs.heartbeat import HeartbeatJob, ServiceIdentity
from radius_service.jobs.partitions import PartitionJob
from radius_service.jobs.payments import PaymentUpkeepJob
from radius_service.jobs.router_health import RouterHealthJob
from radius_service.jobs.sms_reminders import SmsReminderJob
from radius_service.jobs.sms_sender import SmsSenderJob
from radius_service.jobs.stk_query import StkQueryJob
from radius_service.mpesa.status_flow import StatusQueryJob
from radius_service.mpesa.stk_flow import StkFlow
from radius_service.wireguard.job import WireGuardJob

log = logging.getLogger(__name__)

# How long a stop waits for running jobs to finish their current run before cancelling them.
SHUTDOWN_GRACE_SECONDS = 15.0


@dataclass
class ServiceJobs:
    """The jobs to run; the heartbeat and router health also need closing at shutdown."""

    heartbeat: HeartbeatJob
    health: RouterHealthJob
    all: list[Job] = field(default_factory=list)


def service_jobs(
    settings: Settings,
    database: Database,
    identity: ServiceIdentity,
    counters: Counter[str],
    box_source: Callable[[], SecretBox],
    stk_flow: StkFlow,
    *,
    heartbeat_interval: float,
    partition_interval: float,
    extra_counters: Callable[[], Mapping[str, int]] | None = None,
) -> ServiceJobs:
    heartbeat = HeartbeatJob(
        database.sessions,
        identity,
        counters,
        interval=heartbeat_interval,
        extra_counters=extra_counters,
    )
    health = RouterHealthJob(
        database.sessions, box_source, counters, interval=settings.router_poll_seconds
    )
    jobs: list[Job] = [
        heartbeat,
        PartitionJob(database.sessions, counters, interval=partition_interval),
        PaymentUpkeepJob(
            database.sessions,
            counters,
            retention=timedelta(days=settings.pending_payment_retention_days),
        ),
        StkQueryJob(stk_flow),
        StatusQueryJob(stk_flow),
        health,
        SmsSenderJob(database.sessions, box_source, counters),
        SmsReminderJob(database.sessions, counters),
    ]
    if settings.vpn_endpoint_host:
        # The site's WireGuard: only where the operator has said how routers reach it.
        jobs.append(WireGuardJob(database.sessions, settings, counters))
    return ServiceJobs(heartbeat, health, jobs)


async def finish_jobs(tasks: list[asyncio.Task[None]]) -> None:
    """Let each job finish its current run; cancel what outlasts the grace period."""
    _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in pending:
        log.warning(
            "job %s did not finish in %g s; cancelling it", task.get_name(), SHUTDOWN_GRACE_SECONDS
        )
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
