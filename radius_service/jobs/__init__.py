"""Periodic background jobs of the site service, and the loop that runs each one.

A job does its database work in a worker thread (SQLAlchemy is synchronous) with a session of
its own per run. A failing run is logged and retried at the next interval: one bad run never
takes the service down.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from easyisp_core.errors import EasyIspError

log = logging.getLogger(__name__)


class Job(Protocol):
    """Something the service runs now and then every `interval` seconds until it stops."""

    @property
    def name(self) -> str: ...

    @property
    def interval(self) -> float: ...

    async def run_once(self) -> None: ...


def describe_failure(exc: BaseException) -> str:
    """One log line for an expected failure (the database went away, a rule refused)."""
    if isinstance(exc, EasyIspError):
        return exc.user_message
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        # The driver's message without SQLAlchemy's statement dump and help link.
        return f"{type(exc.orig).__name__}: {str(exc.orig).strip().splitlines()[0]}"
    return f"{type(exc).__name__}: {exc}"


async def run_periodically(job: Job, stop: asyncio.Event, counters: Counter[str]) -> None:
    """Run `job` at once, then every `job.interval` seconds, until `stop` is set.

    The wait between runs ends early when `stop` is set, so shutdown never waits out an
    interval (the partition job sleeps for hours)."""
    while not stop.is_set():
        try:
            await job.run_once()
        except (SQLAlchemyError, EasyIspError) as exc:
            counters[f"{job.name}_failures"] += 1
            log.warning(
                "%s job failed: %s; retrying in %g s", job.name, describe_failure(exc), job.interval
            )
        except Exception:
            # A bug, not an outage: keep the traceback, keep the service running.
            counters[f"{job.name}_failures"] += 1
            log.exception("%s job failed unexpectedly; retrying in %g s", job.name, job.interval)
        try:
            await asyncio.wait_for(stop.wait(), timeout=job.interval)
        except TimeoutError:
            continue
