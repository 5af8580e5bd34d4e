"""Write the site's WireGuard files and hand them to `wg` when the tool is installed."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_WG_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class WgTool:
    """The `wg` command; `path` None when it is not installed (then nothing is applied)."""

    path: str | None

    @classmethod
    def find(cls) -> WgTool:
        return cls(shutil.which("wg"))

    def syncconf(self, interface: str, config_file: Path) -> bool:
        """Apply the peers without disturbing live ones; False when `wg` is not installed."""
        if self.path is None:
            return False
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [self.path, "syncconf", interface, str(config_file)],
            check=True,
            capture_output=True,
            timeout=_WG_TIMEOUT,
        )
        return True

    def dump(self, interface: str) -> str | None:
        """`wg show <interface> dump`, or None when `wg` is not installed."""
        if self.path is None:
            return None
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [self.path, "show", interface, "dump"],
            check=True,
            capture_output=True,
            text=True,
            timeout=_WG_TIMEOUT,
        )
        return done.stdout


def write_private_file(path: Path, text: str) -> bool:
    """Replace `path` atomically (mode 0600: it holds the private key); False if unchanged."""
    if path.exists() and path.read_text(encoding="ascii") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True
