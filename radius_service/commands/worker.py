"""The command worker: claim a due DISCONNECT or CHANGE_RATE_LIMIT → send Disconnect-/CoA-
Requests to the routers → confirm → write every step and the outcome back to the row; and,
when it has the router API, ROUTER_TEST and ROUTER_SYNC for the console.

A disconnect is DONE only when confirmed: the session's Accounting-Stop arrived (its row is
closed) or, where the router API is available, the router no longer lists the session. An
ACK without either, a NAK or no answer is retried with backoff; after the last attempt the
router API fallback removes the session (`/ppp/active` or `/ip/hotspot/active`), and without
one the command is FAILED with the reason. A CHANGE_RATE_LIMIT for a customer whose data cap
for the period is used up is carried out as that disconnect (recorded as a step): the next
login gets RADIUS auth's decision on the cap instead of the package's full speed. Database
work runs in worker threads with a short transaction per step, so the console sees each step
as it happens.

Payload contract with the console: ROUTER_TEST `{}` → DONE with a one-line description of
the router; ROUTER_SYNC `{"apply": false}` → DONE with the plan, one change per line
("Nothing to change." when none), `{"apply": true}` → DONE with "Applied N changes:" and the
lines; `"resend_secret": true` beside either also writes the RADIUS secret (after a hand
edit on the router, which RouterOS hides from our API user). Both name the router in
`nas_id` and end FAILED with the error; they are not retried.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.models.enums import ServiceCommandKind, ServiceCommandStatus
from easyisp_core.repositories.service_command_queue import ClaimedCommand, ServiceCommandQueue
from easyisp_core.services.session_control import (
    SessionTarget,
    current_rate_limit,
    data_cap_used_up,
    open_session_targets,
    session_is_open,
)
from radius_service.radius.coa import CoaClient, CoaResult, Outcome, SessionRef

log = logging.getLogger(__name__)

KINDS = (ServiceCommandKind.DISCONNECT, ServiceCommandKind.CHANGE_RATE_LIMIT)
ROUTER_KINDS = (ServiceCommandKind.ROUTER_TEST, ServiceCommandKind.ROUTER_SYNC)
NO_FALLBACK = "router API fallback not available"
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
    """The router API side of a disconnect (radius_service.routers.operations). Both raise
    an error with a message for the operator when the router cannot be asked."""

    async def remove_session(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool:
        """Remove the session (`/ppp/active/remove`, `/ip/hotspot/active/remove`); True when
        the router then no longer lists it."""
        ...

    async def session_listed(self, tenant_id: uuid.UUID, target: SessionTarget) -> bool: ...


class RouterTasks(Protocol):
    """ROUTER_TEST and ROUTER_SYNC: the result text to record, or an error with a message."""

    async def test_router(self, tenant_id: uuid.UUID, nas_id: uuid.UUID) -> str: ...

    async def sync_router(
        self, tenant_id: uuid.UUID, nas_id: uuid.UUID, *, apply: bool, resend_secret: bool = False
    ) -> str: ...


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
        routers: RouterTasks | None = None,
        counters: Counter[str] | None = None,
        concurrency: int = 8,
    ) -> None:
        """Without `routers` the worker leaves ROUTER_TEST / ROUTER_SYNC rows alone."""
        self._sessions = sessions
        self._box = box
        self._coa = coa
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self.router_api = router_api
        self.routers = routers
        self.kinds = KINDS + ROUTER_KINDS if routers is not None else KINDS
        self.counters = counters if counters is not None else Counter()
        self._concurrency = concurrency

    # -- the loop --------------------------------------------------------------------------

    async def serve(self, stop: asyncio.Event, wake: asyncio.Event, poll_interval: float) -> None:
        """Run due commands whenever woken (NOTIFY), when a retry falls due, and at least
        every `poll_interval` seconds (the fallback when a notification was missed)."""
        while not stop.is_set():
            wake.clear()
            try:
                await self.run_pending(wake)
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
        due = await self._db(lambda s: ServiceCommandQueue(s).next_retry_at(self.kinds))
        if due is None:
            return poll_interval
        return min(poll_interval, max((due - self._clock()).total_seconds(), 0.0))

    async def run_pending(self, wake: asyncio.Event | None = None) -> int:
        """Claim and run every due command, up to `concurrency` at a time; how many ran.

        A slot freed by one command claims the next at once, and a notification (`wake`)
        claims into free slots while others still run: a renewal's DISCONNECT never waits
        for a whole batch of slower commands (re-authorisation latency, bench/payments.py)."""
        ran = 0
        running: set[asyncio.Future[None]] = set()
        try:
            while True:
                while len(running) < self._concurrency:
                    claimed = await self._db(self._claim)
                    if claimed is None:
                        break
                    running.add(asyncio.ensure_future(self._execute(claimed)))
                    ran += 1
                if not running:
                    return ran
                waiter = asyncio.ensure_future(wake.wait()) if wake is not None else None
                watched: set[asyncio.Future[Any]] = set(running)
                if waiter is not None:
                    watched.add(waiter)
                try:
                    await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if waiter is not None:
                        waiter.cancel()
                running = {task for task in running if not task.done()}
                if wake is not None and wake.is_set():
                    wake.clear()
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    def _claim(self, session: Session) -> ClaimedCommand | None:
        now = self._clock()
        lease_start = now - timedelta(seconds=self.policy.lease)
        return ServiceCommandQueue(session).claim_next(
            self.kinds, now=now, lease_expired_before=lease_start
        )

    async def _execute(self, command: ClaimedCommand) -> None:
        self.counters[f"commands.{command.kind.value.lower()}"] += 1
        try:
            if command.kind is ServiceCommandKind.DISCONNECT:
                await self._disconnect(command)
            elif command.kind in ROUTER_KINDS:
                await self._router_task(command)
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
        if await self._router_no_longer_lists(command, target):
            await self._step(
                command, "confirmed", f"{target.label}: the router no longer lists the session"
            )
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

    async def _router_no_longer_lists(self, command: ClaimedCommand, target: SessionTarget) -> bool:
        """The second confirmation, where the router API is available; a router that cannot
        be asked confirms nothing (the step says why)."""
        if self.router_api is None or target.nas_id is None:
            return False
        try:
            return not await self.router_api.session_listed(command.tenant_id, target)
        except Exception as exc:
            await self._step(command, "router-api", f"{target.label}: {_reason(exc)}")
            return False

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
        router_api = self.router_api
        await self._step(
            command,
            "fallback",
            f"CoA not confirmed after {command.attempts} attempts; removing through the router API",
        )
        targets = await self._db(lambda s: open_session_targets(s, self._box, customer_id))
        failed: list[str] = []
        for target in targets:
            try:
                removed = await router_api.remove_session(command.tenant_id, target)
            except Exception as exc:
                await self._step(command, "router-api", f"{target.label}: {_reason(exc)}")
                failed.append(f"{target.label}: {_reason(exc)}")
                continue
            if removed:
                await self._step(
                    command, "router-api", f"{target.label}: removed through the router API"
                )
                await self._step(
                    command, "confirmed", f"{target.label}: the router no longer lists the session"
                )
            else:
                detail = "the router still lists the session after removing it"
                await self._step(command, "router-api", f"{target.label}: {detail}")
                failed.append(f"{target.label}: {detail}")
        if failed:
            await self._finish(
                command,
                ServiceCommandStatus.FAILED,
                f"not confirmed after {command.attempts} attempts ({summary}); "
                f"router API: {'; '.join(failed)}",
            )
        else:
            await self._finish(
                command, ServiceCommandStatus.DONE, "disconnected through the router API"
            )

    # -- ROUTER_TEST / ROUTER_SYNC ---------------------------------------------------------

    async def _router_task(self, command: ClaimedCommand) -> None:
        routers = self.routers
        assert routers is not None
        nas_id = command.nas_id
        if nas_id is None:
            await self._finish(command, ServiceCommandStatus.FAILED, "no router named")
            return
        if command.kind is ServiceCommandKind.ROUTER_TEST:
            await self._step(command, "sent", "testing the router API connection")
            work = routers.test_router(command.tenant_id, nas_id)
        else:
            apply = command.payload.get("apply", False)
            resend = command.payload.get("resend_secret", False)
            for name, flag in (("apply", apply), ("resend_secret", resend)):
                if not isinstance(flag, bool):
                    await self._finish(
                        command,
                        ServiceCommandStatus.FAILED,
                        f"payload {name!r} must be true or false",
                    )
                    return
            what = "applying the changes" if apply else "previewing the changes"
            await self._step(command, "sent", f"reading the router's configuration, {what}")
            work = routers.sync_router(command.tenant_id, nas_id, apply=apply, resend_secret=resend)
        try:
            result = await work
        except Exception as exc:
            await self._step(command, "failed", _reason(exc))
            await self._finish(command, ServiceCommandStatus.FAILED, _reason(exc))
            return
        await self._step(command, "done", result.splitlines()[0] if result else "")
        await self._finish(command, ServiceCommandStatus.DONE, result)

    # -- CHANGE_RATE_LIMIT -----------------------------------------------------------------

    async def _change_rate_limit(self, command: ClaimedCommand) -> None:
        customer_id = command.customer_id
        if customer_id is None:
            await self._finish(command, ServiceCommandStatus.FAILED, "no customer named")
            return
        rate = command.payload.get("rate_limit")
        if not isinstance(rate, str) or not rate:
            now = self._clock()
            rate = await self._db(
                lambda s: current_rate_limit(s, command.tenant_id, customer_id, now)
            )
        if rate is None:
            await self._finish(
                command,
                ServiceCommandStatus.FAILED,
                "the customer has no package, or is suspended or expired",
            )
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
        now = self._clock()
        if await self._db(lambda s: data_cap_used_up(s, command.tenant_id, customer_id, now)):
            # RADIUS auth treats a used-up cap like a lapse (refused, or the expired pool):
            # the CoA would lift the router's Mikrotik-Total-Limit with the full speed, so
            # the session is cut instead and the next login gets auth's cap decision.
            await self._step(
                command,
                "cap-used-up",
                f"this period's data cap is used up: disconnecting instead of CoA {rate}",
            )
            await self._disconnect(command)
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


def _reason(exc: BaseException) -> str:
    """The operator's message of our errors (RouterError, NotFound …), else the exception."""
    message = getattr(exc, "user_message", None)
    if isinstance(message, str) and message:
        return message
    return f"{type(exc).__name__}: {exc}"


def _step_name(result: CoaResult) -> str:
    return {Outcome.ACK: "ack", Outcome.NAK: "nak", Outcome.TIMEOUT: "no-answer"}[result.outcome]
