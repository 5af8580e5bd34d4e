"""The PostgreSQL server the tests use: EASYISP_TEST_DATABASE_URL, or a private embedded one."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from easyisp_core.db.embedded import EmbeddedPostgres
from easyisp_core.db.engine import make_engine
from easyisp_core.db.revision import upgrade


@contextmanager
def test_server() -> Iterator[str]:
    """Yield an admin libpq URL (to the maintenance database) of a server the tests may use."""
    url = os.environ.get("EASYISP_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="easyisp-test-pg-") as tmp:
        # The embedded server runs as an unprivileged system user when we are root.
        Path(tmp).chmod(0o755)
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        server.start()
        try:
            yield server.admin_conninfo()
        finally:
            server.stop()


def database_url(admin_url: str, name: str) -> str:
    parsed = make_url(admin_url).set(database=name)
    return parsed.render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str, template: str | None = None) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        tmpl = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
    return name


def drop_database(admin_url: str, name: str) -> None:
    """Drop the database and the staff login roles it created (roles are server-wide)."""
    logins: list[str] = []
    try:
        with psycopg.connect(database_url(admin_url, name), autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('public.users')").fetchone() != (None,):
                logins = [r[0] for r in conn.execute("SELECT username FROM users").fetchall()]
    except psycopg.OperationalError:
        pass  # the database is already gone
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for login in logins:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


def create_migrated_database(admin_url: str, prefix: str) -> str:
    name = create_database(admin_url, prefix)
    engine = make_engine(database_url(admin_url, name), application_name="easyisp-tests")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return name
