"""SIGTERM and SIGINT ask the site service to stop (its shutdown then runs in order)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable


def install_stop_signals(
    loop: asyncio.AbstractEventLoop, request_stop: Callable[[], None]
) -> Callable[[], None]:
    """Route SIGTERM and SIGINT to `request_stop`; returns a function that undoes it."""
    signals = [signal.SIGTERM, signal.SIGINT]
    try:
        for sig in signals:
            loop.add_signal_handler(sig, request_stop)
    except NotImplementedError:
        # Windows event loops have no add_signal_handler; a plain handler runs between
        # bytecodes on the main thread and hands the request to the loop thread-safely.
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            signal.signal(sig, lambda _signum, _frame: loop.call_soon_threadsafe(request_stop))

        def restore_plain() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore_plain

    def restore_loop() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return restore_loop
