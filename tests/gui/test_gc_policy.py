"""Cycles are collected on the GUI thread only: a worker thread allocating past the
collector's thresholds never destroys a Qt object (framework/gc_tuning.GuiThreadCollector)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from easyisp_desktop.framework.gc_tuning import GuiThreadCollector


class Holder:
    """A Python object in a cycle with a QObject, as a dialog and its lambda can be."""

    def __init__(self) -> None:
        self.qobject = QObject()
        self.qobject.setObjectName("held")
        self.me = self


def test_a_cycle_with_a_qobject_is_collected_on_the_gui_thread_not_a_workers(
    qtbot: QtBot, gui_thread_collector: GuiThreadCollector
) -> None:
    assert not gc.isenabled()
    holder = Holder()
    gone = weakref.ref(holder)
    destroyed_on: list[str] = []
    holder.qobject.destroyed.connect(lambda: destroyed_on.append(threading.current_thread().name))
    del holder

    kept: list[list[int]] = []

    def allocate() -> None:  # far past generation 0's threshold, on a worker thread
        kept.extend([i] for i in range(50_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert gone() is not None  # nothing was collected on the worker thread

    before = sum(gui_thread_collector.collections)
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    assert sum(gui_thread_collector.collections) > before
    assert destroyed_on == [threading.main_thread().name]
    assert len(kept) == 50_000
