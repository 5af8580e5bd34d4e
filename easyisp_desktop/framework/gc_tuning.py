"""Keep the garbage collector's full passes short on the GUI thread.

A full (generation 2) collection walks every object the cyclic collector tracks, holding the
GIL: the GUI thread stops for as long as it takes, whichever thread triggered it. Most of
those objects are the modules, classes and functions imported at startup (Qt, SQLAlchemy,
psycopg, pydantic), which live until the process exits anyway. freeze_startup_objects()
collects once, then moves what is alive at that moment to the permanent generation, which
full passes skip. It runs once, before any window, dialog or connection exists, so nothing
the operator's work creates is ever frozen. (The table model used to call gc.freeze() after
every page fetched: everything alive at each fetch was frozen, and a reference cycle frozen
that way is never collected.)
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

# How often the GUI thread looks at the collector's counts (they only say whether to collect).
CHECK_INTERVAL_MS = 250


def freeze_startup_objects() -> int:
    """Freeze what the imports left alive (garbage collected first); returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class GuiThreadCollector(QObject):
    """Run the cyclic garbage collector on the GUI thread only.

    Automatic collection runs in whichever thread happens to allocate when a threshold is
    crossed, a worker thread included. A reference cycle holding a Qt object (a dialog and a
    lambda connected to it, a page and its model) collected there destroys a GUI-thread
    QObject on the wrong thread: an occasional segmentation fault. So automatic collection
    is switched off while this object lives, and a timer on the GUI thread collects with
    the interpreter's own thresholds (young generations often and cheaply, a full pass
    rarely, and short thanks to freeze_startup_objects)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self.collections = [0, 0, 0]
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds (as CPython would)."""
        first, second, third = self._thresholds
        young, middle, old = gc.get_count()
        if young <= first:
            return
        generation = 0
        if middle > second:
            generation = 2 if old > third else 1
        gc.collect(generation)
        self.collections[generation] += 1

    def stop(self) -> None:
        """Give collection back to the interpreter (at exit, or at the end of a test run)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
