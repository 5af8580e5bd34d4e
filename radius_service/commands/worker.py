"""The command worker: claim a due DISCONNECT or CHANGE_RATE_LIMIT → send Disconnect-/CoA-
Requests to the routers → confirm → write every step and the outcome back to the row.

A disconnect is DONE only when confirmed: the session's Accounting-Stop arrived (its row is
closed). An ACK without a Stop, a NAK or no answer is retried with backoff; after the last
attempt the router API fallback (the router issue adds it, see RouterApiFallback) gets a
turn, and without one the command is FAILED with the reason. Database work runs in worker
threads with a short transaction per step, so the console sees each step as it happens.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models.enums import ServiceCommandKind, ServiceCommandStatus
from easyisp_core.repositories.service_command_queue import ClaimedCommand, ServiceCommandQueue
from easyisp_core.services.session_control import (
    SessionTarget,
    current_rate_limit,
    open_session_targets,
    session_is_open,
)
from radius_service.radius.coa import CoaClient, CoaResult, Outcome, SessionRef

log = logging.getLogger(__name__)

KINDS = (ServiceCommandKind.DISCONNECT, ServiceCommandKind.CHANGE_RATE_LIMIT)
NO_FALLBACK = "router API fallback not available yet"
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    first_backoff: float = 10.0  # seconds before the second attempt
    factor: float = 3.0  # 10 s, 30 s, 90 s
    # A RUNNING command whose worker died is taken over after this long.
    lease: float = 300.0
    # After an ACK, how long to wait for the session's Accounting-Stop.
    confirm_timeout: float = 10.0
    confirm_poll: float = 0.1

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.first_backoff * self.factor ** max(attempts - 1, 0))


class RouterApiFallback(Protocol):
    """Hook for the router issue: remove a session through the RouterOS API
    (`/ppp/active/remove`, `/ip/hotspot/active/remove`). True when the router confirms the
    session is gone (removed, or no longer listed)."""

    async def remove_session(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool: ...


class CommandWorker:
    def __init__(
        self,
        sessions: Callable[[], Session],
        box: SecretBox,
        coa: CoaClient,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        router_api: RouterApiFallback | None = None,
        counters: Counter[str] | None = None,
        concurrency: int = 8,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._coa = coa
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self.router_api = router_api
        self.counters = counters if counters is not None else Counter()
        self._concurrency = concurrency

    # -- the loop --------------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, wake: asyncio.Event, poll_interval: float) -> None:
        """Run due commands whenever woken (NOTIFY), when a retry falls due, and at least
        every `poll_interval` seconds (the fallback when a notification was missed)."""
        while not stop.is_set():
            wake.clear()
            try:
                await self.run_pending()
                timeout = await self._until_next_retry(poll_interval)
            except Exception:
                self.counters["commands.worker_failures"] += 1
                log.exception("command worker run failed; retrying in %g s", poll_interval)
                timeout = poll_interval
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _until_next_retry(self, poll_interval: float) -> float:
        due = await self._db(lambda s: ServiceCommandQueue(s).next_retry_at(KINDS))
        if due is None:
            return poll_interval
        return min(poll_interval, max((due - self._clock()).total_seconds(), 0.0))

    async def run_pending(self) -> int:
        """Claim and run every due command (up to `concurrency` at a time); how many ran."""
        ran = 0
        while True:
            batch: list[ClaimedCommand] = []
            for _ in range(self._concurrency):
                claimed = await self._db(self._claim)
                if claimed is None:
                    break
                batch.append(claimed)
            if not batch:
                return ran
            await asyncio.gather(*(self._execute(command) for command in batch))
            ran += len(batch)

    def _claim(self, session: Session) -> ClaimedCommand | None:
        now = self._clock()
        lease_start = now - timedelta(seconds=self.policy.lease)
        return ServiceCommandQueue(session).claim_next(
            KINDS, now=now, lease_expired_before=lease_start
        )

    async def _execute(self, command: ClaimedCommand) -> None:
        self.counters[f"commands.{command.kind.value.lower()}"] += 1
        try:
            if command.kind is ServiceCommandKind.DISCONNECT:
                await self._disconnect(command)
            else:
                await self._change_rate_limit(command)
        except Exception as exc:
            log.exception("service command %d failed unexpectedly", command.id)
            await self._retry_or_fail(command, f"internal error: {type(exc).__name__}: {exc}")

    # -- DISCONNECT ------------------------------------------------------------------------

    async def _disconnect(self, command: ClaimedCommand) -> None:
        customer_id = command.customer_id
        if customer_id is None:
            await self._finish(command, ServiceCommandStatus.FAILED, "no customer named")
            return
        targets = await self._db(lambda s: open_session_targets(s, self._box, customer_id))
        if not targets:
            await self._step(command, "confirmed", "no open session left")
            result = "customer was not online" if command.attempts == 1 else "disconnected"
            await self._finish(command, ServiceCommandStatus.DONE, result)
            return
        problems: list[str] = []
        for target in targets:
            problem = await self._disconnect_one(command, target)
            if problem is not None:
                problems.append(problem)
        if not problems:
            await self._finish(
                command, ServiceCommandStatus.DONE, f"disconnected {len(targets)} session(s)"
            )
            return
        summary = "; ".join(problems)
        if command.attempts < self.policy.max_attempts:
            await self._retry(command, summary)
            return
        await self._fallback(command, summary)

    async def _disconnect_one(self, command: ClaimedCommand, target: SessionTarget) -> str | None:
        """None when the session is confirmed gone, else what went wrong."""
        ref = _session_ref(target)
        if ref is None:
            await self._step(command, "skipped", f"{target.label}: router or secret unknown")
            return f"{target.label}: router or secret unknown"
        await self._step(
            command,
            "sent",
            f"Disconnect-Request for {target.label} to {ref.router_ip}:{ref.coa_port}",
        )
        result = await self._coa.disconnect(ref)
        await self._step(command, _step_name(result), f"{target.label}: {result.describe()}")
        # Whatever the answer, the Stop may already be in (a router that NAKs a session it
        # just closed itself): the closed row is the confirmation.
        if await self._await_stop(target, wait=result.acked):
            await self._step(command, "confirmed", f"{target.label}: Accounting-Stop arrived")
            return None
        if result.acked:
            detail = f"no Accounting-Stop within {self.policy.confirm_timeout:g} s"
            await self._step(command, "unconfirmed", f"{target.label}: {detail}")
            return f"{target.label}: router acknowledged but {detail}"
        return f"{target.label}: {result.describe()}"

    async def _await_stop(self, target: SessionTarget, *, wait: bool) -> bool:
        """Whether the session row is closed, waiting up to confirm_timeout when `wait`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.policy.confirm_timeout if wait else 0.0)
        while True:
            if not await self._db(lambda s: session_is_open(s, target)):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(self.policy.confirm_poll)

    async def _fallback(self, command: ClaimedCommand, summary: str) -> None:
        if self.router_api is None:
            await self._step(command, "fallback", NO_FALLBACK)
            await self._finish(
                command,
                ServiceCommandStatus.FAILED,
                f"not confirmed after {command.attempts} attempts ({summary}); {NO_FALLBACK}",
            )
            return
        customer_id = command.customer_id
        assert customer_id is not None
        targets = await self._db(lambda s: open_session_targets(s, self._box, customer_id))
        failed = []
        for target in targets:
            removed = await self.router_api.remove_session(command.tenant_id, target)
            await self._step(
                command,
                "router-api",
                f"{target.label}: {'removed' if removed else 'not removed'} through the router API",
            )
            if not removed:
                failed.append(target.label)
        if failed:
            await self._finish(
                command,
                ServiceCommandStatus.FAILED,
                f"router API could not remove {', '.join(failed)} ({summary})",
            )
        else:
            await self._finish(
                command, ServiceCommandStatus.DONE, "disconnected through the router API"
            )

    # -- CHANGE_RATE_LIMIT -----------------------------------------------------------------

    async def _change_rate_limit(self, command: ClaimedCommand) -> None:
        customer_id = command.customer_id
        if customer_id is None:
            await self._finish(command, ServiceCommandStatus.FAILED, "no customer named")
            return
        rate = command.payload.get("rate_limit")
        if not isinstance(rate, str) or not rate:
            rate = await self._db(lambda s: current_rate_limit(s, command.tenant_id, customer_id))
        if rate is None:
            await self._finish(command, ServiceCommandStatus.FAILED, "the customer has no package")
            return
        targets = await self._db(lambda s: open_session_targets(s, self._box, customer_id))
        if not targets:
            await self._step(command, "skipped", "no open session")
            await self._finish(
                command,
                ServiceCommandStatus.DONE,
                f"customer not online; {rate} applies at the next login",
            )
            return
        problems: list[str] = []
        for target in targets:
            ref = _session_ref(target)
            if ref is None:
                problems.append(f"{target.label}: router or secret unknown")
                continue
            await self._step(command, "sent", f"CoA-Request {rate} for {target.label}")
            result = await self._coa.change_rate_limit(ref, rate)
            await self._step(command, _step_name(result), f"{target.label}: {result.describe()}")
            if not result.acked:
                problems.append(f"{target.label}: {result.describe()}")
        if not problems:
            await self._finish(
                command,
                ServiceCommandStatus.DONE,
                f"rate limit {rate} applied to {len(targets)} session(s)",
            )
        elif command.attempts < self.policy.max_attempts:
            await self._retry(command, "; ".join(problems))
        else:
            await self._finish(
                command,
                ServiceCommandStatus.FAILED,
                f"not applied after {command.attempts} attempts ({'; '.join(problems)})",
            )

    # -- writing back ----------------------------------------------------------------------

    async def _retry_or_fail(self, command: ClaimedCommand, reason: str) -> None:
        try:
            if command.attempts < self.policy.max_attempts:
                await self._retry(command, reason)
            else:
                await self._finish(command, ServiceCommandStatus.FAILED, reason)
        except Exception:
            # The lease brings it back to a worker later.
            log.exception("could not write back service command %d", command.id)

    async def _retry(self, command: ClaimedCommand, reason: str) -> None:
        at = self._clock() + self.policy.backoff(command.attempts)
        result = f"attempt {command.attempts} of {self.policy.max_attempts}: {reason}"
        await self._step(command, "retry", f"next attempt at {at.isoformat(timespec='seconds')}")

        def write(session: Session) -> None:
            ServiceCommandQueue(session).retry_later(command.id, at=at, result=result)

        await self._db(write)
        self.counters["commands.retried"] += 1

    async def _finish(
        self, command: ClaimedCommand, status: ServiceCommandStatus, result: str
    ) -> None:
        now = self._clock()

        def write(session: Session) -> None:
            ServiceCommandQueue(session).finish(command.id, status, result=result, at=now)

        await self._db(write)
        self.counters[f"commands.{status.value.lower()}"] += 1
        log.info("service command %d %s: %s", command.id, status.value, result)

    async def _step(self, command: ClaimedCommand, step: str, detail: str) -> None:
        entry = {
            "at": self._clock().isoformat(timespec="milliseconds"),
            "attempt": command.attempts,
            "step": step,
            "detail": detail,
        }

        def write(session: Session) -> None:
            ServiceCommandQueue(session).add_step(command.id, entry)

        await self._db(write)

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._sessions() as session, session.begin():
                return work(session)

        return await asyncio.to_thread(run)


def _session_ref(target: SessionTarget) -> SessionRef | None:
    if target.router_ip is None or target.secret is None:
        return None
    return SessionRef(
        router_ip=target.router_ip,
        secret=target.secret,
        username=target.username,
        session_id=target.session_id,
        framed_ip=target.framed_ip,
        coa_port=target.coa_port,
    )


def _step_name(result: CoaResult) -> str:
    return {Outcome.ACK: "ack", Outcome.NAK: "nak", Outcome.TIMEOUT: "no-answer"}[result.outcome]
