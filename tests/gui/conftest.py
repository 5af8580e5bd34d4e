"""The GUI tests run with the console's garbage-collection policy: cycles holding Qt objects
are collected on the GUI thread only (framework/gc_tuning.GuiThreadCollector), as in the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from easyisp_desktop.framework.gc_tuning import GuiThreadCollector


@pytest.fixture(scope="package", autouse=True)
def gui_thread_collector(qapp: QApplication) -> Iterator[GuiThreadCollector]:
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.stop()
