"""A RouterOS script syntax check of our own, for the scripts we generate.

It checks what a paste into a router terminal trips over first: unbalanced or badly
escaped strings, line continuations, `{}` / `[]` balance, and that each command starts with
a menu path (`/ip address`) or a word a script line may start with. It is deliberately
stricter than RouterOS where RouterOS is lenient (an unknown escape is an error here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESCAPES = set('"\\nrt$?_abfv')
_HEX = set("0123456789ABCDEFabcdef")
_OPENERS = {"{": "}", "[": "]"}
_CLOSERS = {"}": "{", "]": "["}
# Words a command may start with besides a menu path: scripting commands and the verbs an
# `/export` writes under a menu line.
_KEYWORDS = {
    ":global", ":local", ":set", ":if", ":do", ":for", ":foreach", ":while", ":put",
    ":log", ":delay", ":error", ":return", ":execute", ":parse", ":resolve", ":beep",
    ":time", ":len", ":pick", ":find", ":typeof", ":toarray", ":tostr", ":tonum",
    ":tobool", ":toip", ":toip6", ":totime", ":terminal", ":retry", ":onerror", ":jobname",
    "add", "set", "remove", "print", "enable", "disable", "move", "find", "export",
    "unset", "reset", "comment",
}  # fmt: skip
_MENU = re.compile(r"/(?:[a-z0-9-]+(?:[ /][a-z0-9-]+)*)?")


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass
class _Command:
    """Where a command starts and the text of its first word."""

    line: int
    column: int
    first_word: str = ""
    done: bool = False


def check_script(text: str) -> list[SyntaxProblem]:
    """Every problem found in `text`; an empty list means the script passed."""
    # A script saved on Windows: CRLF line ends mean the same as LF.
    text = text.replace("\r\n", "\n")
    problems: list[SyntaxProblem] = []
    stack: list[tuple[str, int, int]] = []
    line, column = 1, 0
    in_string: tuple[int, int] | None = None
    command: _Command | None = None
    at_line_start = True
    i = 0
    n = len(text)

    def problem(message: str, at: tuple[int, int] | None = None) -> None:
        where = at or (line, column)
        problems.append(SyntaxProblem(where[0], where[1], message))

    def finish_command() -> None:
        nonlocal command
        if command is not None and command.first_word:
            _check_first_word(command, problems)
        command = None

    while i < n:
        char = text[i]
        column += 1
        if in_string is not None:
            if char == "\\":
                nxt = text[i + 1] if i + 1 < n else ""
                if nxt == "\n":
                    i += 2
                    line, column = line + 1, 0
                    continue
                if nxt in _ESCAPES and nxt:
                    i += 2
                    column += 1
                    continue
                if nxt in _HEX and i + 2 < n and text[i + 2] in _HEX:
                    i += 3
                    column += 2
                    continue
                problem(f"invalid escape \\{nxt!s}" if nxt else "backslash at end of script")
                i += 2
                column += 1
                continue
            if char == '"':
                in_string = None
            elif char == "\n":
                problem("string not closed before the end of the line", in_string)
                in_string = None
                line, column = line + 1, 0
                at_line_start = True
                finish_command()
            i += 1
            continue
        if char == "\\":
            if text[i + 1 : i + 2] == "\n":
                i += 2
                line, column = line + 1, 0
                continue
            problem("backslash outside a string must end the line (a continuation)")
            i += 1
            continue
        if char == "\n":
            finish_command()
            line, column = line + 1, 0
            at_line_start = True
            i += 1
            continue
        if char in " \t\r":
            if command is not None and command.first_word:
                command.done = True
            i += 1
            continue
        if char == ";":
            finish_command()
            at_line_start = True
            i += 1
            continue
        if char == "#" and command is None and at_line_start:
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if char in _OPENERS:
            stack.append((char, line, column))
            finish_command()
            at_line_start = True
            i += 1
            continue
        if char in _CLOSERS:
            if not stack or stack[-1][0] != _CLOSERS[char]:
                problem(f"unexpected {char!r}")
            else:
                stack.pop()
            finish_command()
            # After `]` or `}` the enclosing command continues (e.g. `set [find] a=b`).
            command = _Command(line, column, "", True)
            at_line_start = False
            i += 1
            continue
        if command is None:
            command = _Command(line, column)
            at_line_start = False
        if char == '"':
            in_string = (line, column)
            if command is not None and not command.first_word:
                command.first_word = '"'
                command.done = True
        elif command is not None and not command.done:
            command.first_word += char
        i += 1
    if in_string is not None:
        problem("string not closed", in_string)
    finish_command()
    for opener, at_line, at_column in stack:
        problem(f"{opener!r} is never closed", (at_line, at_column))
    return sorted(problems, key=lambda p: (p.line, p.column))


def _check_first_word(command: _Command, problems: list[SyntaxProblem]) -> None:
    word = command.first_word
    if word.startswith("/"):
        if not _MENU.fullmatch(word):
            problems.append(SyntaxProblem(command.line, command.column, f"bad menu path {word!r}"))
        return
    if word not in _KEYWORDS:
        problems.append(
            SyntaxProblem(command.line, command.column, f"a command cannot start with {word!r}")
        )
