"""Engine and unit-of-work sessions. The entrypoint opens a session per action and commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.embedded import APP_DATABASE, EmbeddedPostgres
from easyisp_core.db.profiles import ServerProfile
from easyisp_core.db.urls import describe, to_sqlalchemy_url
from easyisp_core.errors import DatabaseUnavailable, EasyIspError, LoginRefused
from easyisp_core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Database:
    """An engine plus its session factory, and the embedded server when we started one."""

    engine: Engine
    sessions: sessionmaker[Session]
    embedded: EmbeddedPostgres | None = None
    url: URL = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.engine.url

    @property
    def description(self) -> str:
        return ("embedded " if self.embedded else "") + describe(self.url)

    def close(self) -> None:
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def make_engine(
    url: str | URL,
    *,
    application_name: str = "easyisp",
    pool_size: int = 5,
    pre_ping: bool = True,
    server_settings: Mapping[str, str] | None = None,
) -> Engine:
    """`pre_ping=False` saves a round trip per checkout; the caller then retries once on
    an error whose `connection_invalidated` is set (a connection the server dropped).
    `server_settings` are set when each connection starts (no round trip of their own)."""
    sa_url = to_sqlalchemy_url(url) if isinstance(url, str) else url
    connect_args: dict[str, object] = {
        "application_name": application_name,
        "connect_timeout": 10,
    }
    if server_settings:
        connect_args["options"] = " ".join(f"-c {k}={v}" for k, v in server_settings.items())
    engine = create_engine(
        sa_url,
        pool_size=pool_size,
        pool_pre_ping=pre_ping,
        connect_args=connect_args,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Every timestamp the app reads is timestamptz; render them in UTC and convert at the edge.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


def open_database(
    settings: Settings,
    *,
    application_name: str = "easyisp",
    url: str | URL | None = None,
    migrate_embedded: bool = True,
) -> Database:
    """Connect to the configured server, or start the embedded one when none is configured.

    The embedded database is this program's own, so it is migrated to this version's schema
    right away; a configured server is only checked (by the caller), never changed unasked."""
    embedded: EmbeddedPostgres | None = None
    target: str | URL | None = url or settings.database_url
    if target is None:
        embedded = EmbeddedPostgres(settings.embedded_pgdata)
        embedded.start()
        target = embedded.ensure_database()
    engine = make_engine(target, application_name=application_name)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if embedded is not None and migrate_embedded:
            from easyisp_core.db.revision import upgrade

            upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        if embedded is not None:
            embedded.stop()
        raise login_error(exc, describe(engine.url)) from exc
    return Database(
        engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), embedded=embedded
    )


def open_staff_database(
    settings: Settings,
    profile: ServerProfile,
    username: str,
    password: str,
    *,
    application_name: str = "easyisp-console",
    before_login: Callable[[Database], None] | None = None,
) -> Database:
    """Log a staff member in with their own database role (PostgreSQL checks the password).

    For the embedded profile the server is started (and migrated) first through the local
    superuser socket, and `before_login` may use that superuser connection (the demo loader);
    the staff session itself never uses the superuser."""
    embedded: EmbeddedPostgres | None = None
    if profile.embedded:
        if settings.database_url is not None:
            raise DatabaseUnavailable(
                "EASYISP_DATABASE_URL is set, so this PC has no embedded database to log in to."
            )
        admin = open_database(settings, application_name="easyisp-console-start")
        try:
            if before_login is not None:
                before_login(admin)
        except BaseException:
            admin.close()
            raise
        embedded, admin.embedded = admin.embedded, None  # keep the server, drop the superuser
        admin.close()
        assert embedded is not None
        socket_url = make_url(embedded.admin_conninfo(APP_DATABASE))
        profile = replace(
            profile,
            host=str(socket_url.query.get("host") or socket_url.host or "localhost"),
            port=socket_url.port or 5432,
            database=socket_url.database or profile.database,
        )
    url = profile.url(username, password)
    engine = make_engine(url, application_name=application_name)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        if embedded is not None:
            embedded.stop()
        raise login_error(exc, describe(url)) from exc
    return Database(
        engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), embedded=embedded
    )


def login_error(exc: OperationalError, where: str) -> EasyIspError:
    """Why a connection failed, in words for the person at the login window."""
    text_ = str(exc.orig)
    if "password authentication failed" in text_ or ("does not exist" in text_ and "role" in text_):
        # Same words for an unknown user and a wrong password: no hint which one it was.
        return LoginRefused("Wrong username or password.")
    if "not permitted to log in" in text_:
        return LoginRefused("This account is suspended. Ask an administrator to reactivate it.")
    if "no password supplied" in text_:
        return LoginRefused("Enter your password.")
    return DatabaseUnavailable(f"Cannot reach the database {where}: {text_.strip()}")


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
