"""Run blocking work (database, files) off the GUI thread and report back through signals.

A page hands a callable to a WorkerPool and connects to the worker's signals; the slots run
on the GUI thread because the signals object lives there. Workers never touch widgets.

Lifetimes end on the GUI thread on purpose. A Worker is a plain Python object (not a
QRunnable subclass), and the pool thread hands its reference back through a queued signal
before it lets go, so the last reference (and with it the worker's signals QObject, which
lives on the GUI thread) is always dropped on the GUI thread. Before, the last reference
could be dropped on the pool thread, destroying a GUI-thread QObject there while its queued
signals were being delivered: an occasional segmentation fault.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Signal


class Cancelled(Exception):
    """Raised inside a worker's callable (by raise_if_cancelled) to stop early."""


class WorkerSignals(QObject):
    # The callable's return value; not emitted when the worker was cancelled.
    result = Signal(object)
    # The exception the callable raised (with its traceback attached); not emitted when cancelled.
    error = Signal(object)
    # (done, message): a count or percentage, and a line for a status bar.
    progress = Signal(int, str)
    # Always emitted last, whatever happened.
    finished = Signal()


class Worker:
    """One call of `fn(*args, **kwargs)` on a pool thread.

    Use Worker.controlled(fn) for work that reports progress or stops early: fn then receives
    the worker and may call report_progress(), is_cancelled() and raise_if_cancelled()."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        # Created here, on the caller's (GUI) thread, so that emissions from the pool thread
        # are queued to receivers on the GUI thread.
        self.signals = WorkerSignals()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancelled = threading.Event()

    @classmethod
    def controlled(cls, fn: Callable[[Worker], Any]) -> Worker:
        worker = cls(fn)
        worker._args = (worker,)
        return worker

    def cancel(self) -> None:
        """Ask the work to stop; its result and error will no longer be reported."""
        self._cancelled.set()

    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled

    def report_progress(self, done: int, message: str = "") -> None:
        self.signals.progress.emit(done, message)

    def run(self) -> None:  # called by QThreadPool on a pool thread
        try:
            if self._cancelled.is_set():
                return
            result = self._fn(*self._args, **self._kwargs)
        except Cancelled:
            pass
        except Exception as exc:
            # Every failure goes to the GUI thread: the page decides between a plain message
            # (an expected error) and a bug report. Nothing is swallowed here.
            if not self._cancelled.is_set():
                self.signals.error.emit(exc)
        else:
            if not self._cancelled.is_set():
                self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


class WorkerPool(QObject):
    """The threads a window runs its workers on, and the workers still running."""

    # A worker's pool thread is done with it (emitted last, after its own `finished`).
    _worker_done = Signal(object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: set[Worker] = set()
        self._worker_done.connect(self._retire)

    def start(self, worker: Worker) -> Worker:
        self._active.add(worker)
        box = [worker]
        done = self._worker_done

        def job() -> None:  # on a pool thread
            running = box.pop()
            try:
                running.run()
            finally:
                # The queued signal holds a reference until it is delivered on the GUI
                # thread, so dropping ours here is never the last one.
                # RuntimeError: the pool is being destroyed (its window closed) and waits for
                # this thread in its destructor, so nothing else touches the worker now.
                with contextlib.suppress(RuntimeError):
                    done.emit(running)
                del running

        self._pool.start(job)
        return worker

    def _retire(self, worker: Worker) -> None:
        self._active.discard(worker)

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
    ) -> Worker:
        """Start `fn()` with the given GUI-thread callbacks; returns the worker.

        With a `context` (the dialog the callbacks fill in) the callbacks are dropped once that
        object is gone: a form closed before its read finished is not touched afterwards."""
        worker = Worker(fn)
        if context is not None:
            if on_result is not None:
                on_result = _while_alive(context, on_result)
            if on_error is not None:
                on_error = _while_alive(context, on_error)
        if on_result is not None:
            worker.signals.result.connect(on_result)
        if on_error is not None:
            worker.signals.error.connect(on_error)
        return self.start(worker)

    @property
    def active_count(self) -> int:
        return len(self._active)

    def cancel_all(self) -> None:
        for worker in list(self._active):
            worker.cancel()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until every started worker has returned (at shutdown); False on timeout."""
        return self._pool.waitForDone(timeout_ms)


def _while_alive(context: QObject, callback: Callable[[Any], None]) -> Callable[[Any], None]:
    # Checked on the GUI thread when the queued signal arrives, so a deletion between the
    # worker's emit and its delivery is seen too (cancel() alone cannot catch that).
    def call(value: Any) -> None:
        if shiboken6.isValid(context):
            callback(value)

    return call
