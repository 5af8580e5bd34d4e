"""Engine and unit-of-work sessions. The entrypoint opens a session per action and commits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.embedded import EmbeddedPostgres
from easyisp_core.db.urls import describe, to_sqlalchemy_url
from easyisp_core.errors import DatabaseUnavailable
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


def make_engine(url: str | URL, *, application_name: str = "easyisp", pool_size: int = 5) -> Engine:
    sa_url = to_sqlalchemy_url(url) if isinstance(url, str) else url
    engine = create_engine(
        sa_url,
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": application_name, "connect_timeout": 10},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Every timestamp the app reads is timestamptz; render them in UTC and convert at the edge.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


def open_database(
    settings: Settings, *, application_name: str = "easyisp", url: str | None = None
) -> Database:
    """Connect to the configured server, or start the embedded one when none is configured."""
    embedded: EmbeddedPostgres | None = None
    target = url or settings.database_url
    if target is None:
        embedded = EmbeddedPostgres(settings.embedded_pgdata)
        embedded.start()
        target = embedded.ensure_database()
    engine = make_engine(target, application_name=application_name)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        if embedded is not None:
            embedded.stop()
        raise DatabaseUnavailable(
            f"Cannot reach the database {describe(engine.url)}: {exc.orig}".strip()
        ) from exc
    return Database(
        engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), embedded=embedded
    )


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
