"""The embedded database: started, migrated and password-protected by the app itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from easyisp_core.db.engine import open_database, open_staff_database, session_scope
from easyisp_core.db.profiles import ServerProfile
from easyisp_core.db.revision import check_schema, head_revision
from easyisp_core.errors import LoginRefused
from easyisp_core.services.staff import create_staff
from easyisp_core.services.tenants import create_tenant
from easyisp_core.settings import Settings
from tests.factories import PASSWORD, unique


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    tmp_path.chmod(0o755)  # the server runs as its own OS user when the tests run as root
    return Settings(data_dir=tmp_path / "data")


def test_the_embedded_database_is_started_migrated_and_reused(settings: Settings) -> None:
    first = open_database(settings)
    try:
        assert first.embedded is not None
        assert check_schema(first.engine) == head_revision()
        second = open_database(settings)  # a second app on the same PC attaches to it
        try:
            with second.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        finally:
            second.close()
        with first.engine.connect() as conn:  # the first app is not disturbed
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        first.close()


def test_staff_log_in_to_the_embedded_database_with_their_own_password(
    settings: Settings,
) -> None:
    admin = open_database(settings)
    username = unique("tembedded.admin")
    try:
        with session_scope(admin.sessions) as session:
            tenant = create_tenant(session, {"name": unique("pc-isp"), "display_name": "PC"})
            create_staff(
                session,
                {"tenant": tenant.name, "username": username, "full_name": "A", "role": "ADMIN"},
                PASSWORD,
            )
        staff = open_staff_database(settings, ServerProfile(), username, PASSWORD)
        try:
            with staff.engine.connect() as conn:
                assert conn.execute(text("SELECT session_user")).scalar() == username
                assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 1
        finally:
            staff.close()
        with pytest.raises(LoginRefused, match="Wrong username or password"):
            open_staff_database(settings, ServerProfile(), username, "not-the-password-1")
        with pytest.raises(LoginRefused, match="Wrong username or password"):
            open_staff_database(settings, ServerProfile(), "nobody.at.all", PASSWORD)
    finally:
        admin.close()
