"""Shared fixtures: a real PostgreSQL migrated to head once per run, each test rolled back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine
from tests import pg

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    with pg.test_server() as url:
        yield url


@pytest.fixture(scope="session")
def template_db(admin_url: str) -> Iterator[str]:
    """A database migrated to head; tests that need their own database copy it."""
    name = pg.create_migrated_database(admin_url, "easyisp_test_tmpl")
    yield name
    pg.drop_database(admin_url, name)


@pytest.fixture(scope="session")
def db_url(admin_url: str, template_db: str) -> Iterator[str]:
    """The shared test database (a copy of the template); tests here never commit."""
    name = pg.create_database(admin_url, "easyisp_test", template=template_db)
    yield pg.database_url(admin_url, name)
    pg.drop_database(admin_url, name)


@pytest.fixture
def fresh_db_url(admin_url: str, template_db: str) -> Iterator[str]:
    """A private migrated database for a test whose code commits (CLI, services end to end)."""
    name = pg.create_database(admin_url, "easyisp_test_own", template=template_db)
    yield pg.database_url(admin_url, name)
    pg.drop_database(admin_url, name)


@pytest.fixture
def empty_db_url(admin_url: str) -> Iterator[str]:
    """An empty database (no schema), for migration tests."""
    name = pg.create_database(admin_url, "easyisp_test_empty")
    yield pg.database_url(admin_url, name)
    pg.drop_database(admin_url, name)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url, application_name="easyisp-tests")
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """An ORM session inside the test's transaction; commits become savepoints."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as sess:
        yield sess


@pytest.fixture(scope="session")
def secret_box() -> SecretBox:
    return SecretBox.from_encoded(new_site_key())
