"""Catch database work on the GUI thread, where a slow query would freeze the console.

install_guard(engine) makes the engine raise RuntimeError whenever a connection is checked out
or a statement runs on the Qt GUI thread. It is on under the tests and when
EASYISP_GUARD_GUI_THREAD=1 (developers), so a mistake fails loudly long before an operator
on a slow link sees a frozen window.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread
from sqlalchemy import Engine, event

GUARD_ENV = "EASYISP_GUARD_GUI_THREAD"
_GUARDED_ATTRIBUTE = "_easyisp_gui_thread_guard"


def on_gui_thread() -> bool:
    """True on the thread that runs the Qt event loop (False when there is no application)."""
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() == app.thread()


def assert_not_gui_thread(what: str = "database work") -> None:
    """Raise RuntimeError when called on the GUI thread."""
    if on_gui_thread():
        raise RuntimeError(
            f"{what} on the GUI thread: run it in a Worker (easyisp_desktop.framework.worker)"
        )


def guard_enabled() -> bool:
    """On when asked for in the environment, and always under pytest."""
    return os.environ.get(GUARD_ENV) == "1" or "PYTEST_CURRENT_TEST" in os.environ


def install_guard(engine: Engine, *, force: bool = False) -> bool:
    """Make `engine` refuse to work on the GUI thread; returns whether the guard is on."""
    if not (force or guard_enabled()):
        return False
    if getattr(engine, _GUARDED_ATTRIBUTE, False):
        return True
    # Checkout catches a session opening a connection; execute catches a connection that
    # was checked out elsewhere and then used on the GUI thread.
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "before_cursor_execute", _on_execute)
    setattr(engine, _GUARDED_ATTRIBUTE, True)
    return True


def remove_guard(engine: Engine) -> None:
    if getattr(engine, _GUARDED_ATTRIBUTE, False):
        event.remove(engine, "checkout", _on_checkout)
        event.remove(engine, "before_cursor_execute", _on_execute)
        setattr(engine, _GUARDED_ATTRIBUTE, False)


def _on_checkout(*_args: Any) -> None:
    assert_not_gui_thread("a database connection checked out")


def _on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if on_gui_thread():
        first_line = statement.strip().splitlines()[0] if statement.strip() else statement
        assert_not_gui_thread(f"the query {first_line[:80]!r}")
