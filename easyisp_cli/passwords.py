"""How the CLI obtains a password: stdin, an interactive prompt, or a generated one."""

from __future__ import annotations

import getpass
import sys

from easyisp_core.errors import ValidationFailed
from easyisp_core.passwords import generate_password


def read_password(*, from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """Return (password, was_generated)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationFailed({"password": "nothing was given on standard input"})
        return password, False
    if generate or not sys.stdin.isatty():
        return generate_password(), True
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ValidationFailed({"password": "the two entries differ"})
    return first, False
