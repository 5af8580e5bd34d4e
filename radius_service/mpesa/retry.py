"""Bounded retries for the Daraja calls that are safe to repeat (token fetch, queries)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from radius_service.mpesa.errors import DarajaError, DarajaRateLimited, retryable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all; waits `delays[i]` before retry i+1 (the last delay repeats).

    A rate-limited answer waits at least `rate_limit_delay`: Spike Arrest counts every try.
    """

    attempts: int = 3
    delays: tuple[float, ...] = (1.0, 3.0)
    rate_limit_delay: float = 5.0

    def delay_before(self, retry: int, error: DarajaError) -> float:
        base = self.delays[min(retry, len(self.delays) - 1)] if self.delays else 0.0
        if isinstance(error, DarajaRateLimited):
            return max(base, self.rate_limit_delay)
        return base


NO_RETRY = RetryPolicy(attempts=1)


async def with_retries(operation: str, call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run `call`, trying again on rate limits and outages; other errors surface at once."""
    retry = 0
    while True:
        try:
            return await call()
        except DarajaError as exc:
            if not retryable(exc) or retry + 1 >= policy.attempts:
                log.warning("daraja %s failed for good: %s", operation, exc.user_message)
                raise
            delay = policy.delay_before(retry, exc)
            log.info(
                "daraja %s: %s; retry %d of %d in %.1f s",
                operation,
                exc.user_message,
                retry + 1,
                policy.attempts - 1,
                delay,
            )
            retry += 1
            await asyncio.sleep(delay)
