"""The site's WireGuard private key: a file in the service's data directory, never the DB.

Why a file and not the database (even encrypted): the key only ever serves this machine's
`wg` interface, so nobody else needs it; a database dump, a restored backup on another PC or a
staff login with psql then cannot impersonate the site to the routers. The file is created
once, mode 0600, with O_EXCL so two starting processes cannot write different keys.
"""

from __future__ import annotations

import os
from pathlib import Path

from easyisp_core.wireguard_keys import generate_key_pair, is_valid_key

KEY_FILE = "site-private.key"


def load_or_create_private_key(directory: Path) -> str:
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(generate_key_pair().private_key + "\n")
    key = path.read_text(encoding="ascii").strip()
    if not is_valid_key(key):
        raise ValueError(f"{path} does not hold a WireGuard private key")
    return key
