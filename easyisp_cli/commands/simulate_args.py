"""Argument types shared by the `easyisp simulate …` commands."""

from __future__ import annotations

import argparse


def server_address(value: str) -> tuple[str, int]:
    from radius_service.radius.listener import parse_address

    try:
        address = parse_address(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if address is None:
        raise argparse.ArgumentTypeError("give the server as HOST:PORT")
    return address
