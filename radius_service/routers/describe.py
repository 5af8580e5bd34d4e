"""The one-line router description a ROUTER_TEST command records, e.g.
"RouterOS 7.16 on RB750Gr3 'core-1', up 3d 4h, CPU 12%, memory 120/256 MiB"."""

from __future__ import annotations

import re

from radius_service.routers.client import RouterInfo

_MIB = 1024 * 1024
_DURATION_PART = re.compile(r"(\d+)([wdhms])")


def describe_router(info: RouterInfo) -> str:
    version = info.version.split(" ", 1)[0] or "?"
    used = max(info.total_memory - info.free_memory, 0)
    return (
        f"RouterOS {version} on {info.board or '?'} '{info.identity}', "
        f"up {short_uptime(info.uptime)}, CPU {info.cpu_load}%, "
        f"memory {round(used / _MIB)}/{round(info.total_memory / _MIB)} MiB"
    )


def short_uptime(uptime: str) -> str:
    """RouterOS's "3d4h12m20s" as its two largest parts, "3d 4h"."""
    parts = [f"{int(number)}{unit}" for number, unit in _DURATION_PART.findall(uptime)]
    return " ".join(parts[:2]) if parts else (uptime or "?")
