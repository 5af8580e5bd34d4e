"""RouterOS script quoting: every value we put into a script goes through `quote()`.

Inside double quotes RouterOS interprets `\\`, `\"`, `$` (variable), `?` (help in the
terminal) and escapes such as `\\n`. Everything that could end the string, start a variable
or a new line is escaped; bytes outside printable ASCII are written as `\\XX` hex (of the
UTF-8 encoding) so the script itself stays plain ASCII and survives any terminal paste.
"""

from __future__ import annotations

import re

_SIMPLE = {
    "\\": "\\\\",
    '"': '\\"',
    "$": "\\$",
    "?": "\\?",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
# Values made only of these need no quotes at all (names, addresses, lists, durations).
_BARE = re.compile(r"[A-Za-z0-9._:/,*+@-]+")


def quote(value: str) -> str:
    """`value` as a double-quoted RouterOS string."""
    out: list[str] = []
    for char in value:
        if char in _SIMPLE:
            out.append(_SIMPLE[char])
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.extend(f"\\{byte:02X}" for byte in char.encode("utf-8"))
    return '"' + "".join(out) + '"'


def value(text: str) -> str:
    """A property value: bare when it is plainly safe, otherwise quoted."""
    return text if _BARE.fullmatch(text) else quote(text)
