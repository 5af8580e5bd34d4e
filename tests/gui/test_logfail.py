"""The GUI tests' log check itself: a logged warning or error is reported, an expected one is
not (tests/gui/logfail.py fails every GUI test with what this returns)."""

from __future__ import annotations

import logging

import pytest

from tests.gui.logfail import logged_problems

log = logging.getLogger("easyisp_desktop.some_page")


def test_a_logged_error_or_warning_is_a_problem_and_info_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log.info("a page loaded")
    log.warning("a reload failed")
    log.error("unexpected error in the console")
    problems = logged_problems(caplog, ())
    assert problems == [
        "WARNING easyisp_desktop.some_page: a reload failed",
        "ERROR easyisp_desktop.some_page: unexpected error in the console",
    ]
    assert logged_problems(caplog, ("unexpected error",)) == problems[:1]
    caplog.clear()  # this test's own records are expected; the autouse check sees none


def test_every_gui_test_fails_on_a_qt_warning_but_the_offscreen_notices(
    request: pytest.FixtureRequest,
) -> None:
    # No marker on this test: tests/gui/conftest.py gives every GUI test these.
    level = request.node.get_closest_marker("qt_log_level_fail")
    ignored = request.node.get_closest_marker("qt_log_ignore")
    assert level is not None
    assert level.args == ("WARNING",)
    assert ignored is not None
    assert "propagateSizeHints" in " ".join(ignored.args)
