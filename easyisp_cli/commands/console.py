"""`easyisp console` (being written)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("console", help="(being written)")
    parser.set_defaults(handler=_run)


def _run(ctx: Any, args: argparse.Namespace) -> int:
    return 1
