"""The GUI tests run with the console's garbage-collection policy: cycles holding Qt objects
are collected on the GUI thread only (framework/gc_tuning.GuiThreadCollector), as in the app.

Every test here fails on an unexpected Qt warning or a logged warning/error (tests/gui/logfail.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from easyisp_core.crypto import SecretBox
from easyisp_desktop.framework.gc_tuning import GuiThreadCollector
from easyisp_desktop.framework.worker import WorkerPool
from tests.gui.logfail import QT_WARNINGS_FAIL, no_logged_warnings
from tests.gui.workspace_site import Site, seed_site

__all__ = ["no_logged_warnings"]

GUI_TESTS = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "expected_log(*parts): log records containing a part do not fail the test"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if GUI_TESTS in Path(str(item.path)).parents:
            # Appended: a test's own qt_log_ignore (nearer) still wins over these.
            for marker in QT_WARNINGS_FAIL:
                item.add_marker(marker)


@pytest.fixture(scope="package", autouse=True)
def gui_thread_collector(qapp: QApplication) -> Iterator[GuiThreadCollector]:
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.stop()


# A module-level fixture of the same name (pages_support.site, ...) overrides these.
@pytest.fixture
def site(fresh_db_url: str, secret_box: SecretBox) -> Site:
    return seed_site(fresh_db_url, secret_box)


@pytest.fixture
def workers(qtbot: QtBot) -> Iterator[WorkerPool]:
    pool = WorkerPool()
    yield pool
    pool.cancel_all()
    pool.wait(10_000)
