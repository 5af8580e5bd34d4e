"""What an operator reads when work fails: known errors say what to do, bugs say so."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from easyisp_core.errors import EasyIspError

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """The message an operator sees for a failure: known errors say what to do, bugs say so."""
    if isinstance(exc, EasyIspError):
        return exc.user_message
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig or exc).strip().splitlines()[0]
        return (
            f"The database stopped answering ({detail}). "
            "Check that it is running and reachable, then press Retry."
        )
    log.error("unexpected error in the console", exc_info=exc)
    return (
        f"Something went wrong that EasyISP did not expect ({type(exc).__name__}: {exc}). "
        "Please report it together with the log."
    )
