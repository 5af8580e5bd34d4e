"""Every GUI test fails on an unexpected Qt warning or a logged warning/error (qutebrowser's
logfail habit): a bug that only logs must not pass for a green test.

tests/gui/conftest.py applies both to every test under tests/gui. A test that provokes a
warning on purpose says so: `@pytest.mark.expected_log("message part", ...)` for our logging,
`@pytest.mark.qt_log_ignore(...)` (keep the offscreen notices in it) for Qt's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

# The offscreen platform's own notices are no failure of ours.
OFFSCREEN_NOTICES = (
    "This plugin does not support propagateSizeHints",
    "This plugin does not support raise",
)
QT_WARNINGS_FAIL = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(*OFFSCREEN_NOTICES),
]


def logged_problems(caplog: pytest.LogCaptureFixture, expected: tuple[str, ...]) -> list[str]:
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING and not any(part in r.getMessage() for part in expected)
    ]


@pytest.fixture(autouse=True)
def no_logged_warnings(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """A warning or an error logged during the test (an unexpected failure) fails it."""
    caplog.set_level(logging.WARNING)
    yield
    marker = request.node.get_closest_marker("expected_log")
    expected = tuple(marker.args) if marker is not None else ()
    problems = logged_problems(caplog, expected)
    assert not problems, problems
