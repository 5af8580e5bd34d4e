"""Router health columns: staff read them (the console shows them) but only the site
service writes them; api_host is configuration (nas.write, audited); health writes are not
audited and do not touch updated_at (readers watch it for edited routers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests import pg
from tests.db.security_site import SecuritySite, build_site


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_health", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def _audit_rows(conn: psycopg.Connection[Any], nas_id: object) -> int:
    row = conn.execute(
        "SELECT count(*) FROM audit_logs WHERE target_nas_id = %s", (nas_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_staff_read_the_health_but_only_the_service_writes_it(site: SecuritySite) -> None:
    nas_id = site.a.ids["nas"]
    with site.connect("SERVICE", autocommit=True) as service:
        service.execute(
            "UPDATE nas SET status = 'ONLINE', router_identity = 'core', cpu_load = 7, "
            "health_error = NULL, health_failures = 0, health_checked_at = now() WHERE id = %s",
            (nas_id,),
        )
    with site.connect("VIEWER") as viewer:
        row = viewer.execute(
            "SELECT router_identity, cpu_load, health_failures FROM nas WHERE id = %s", (nas_id,)
        ).fetchone()
        assert row == ("core", 7, 0)
    with site.connect("FIELD_TECH") as tech, pytest.raises(psycopg.errors.InsufficientPrivilege):
        tech.execute("UPDATE nas SET cpu_load = 1 WHERE id = %s", (nas_id,))


def test_health_writes_are_not_audited_and_keep_updated_at(site: SecuritySite) -> None:
    nas_id = site.a.ids["nas"]
    libpq = make_url(site.db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        before = admin.execute("SELECT updated_at FROM nas WHERE id = %s", (nas_id,)).fetchone()
        audits = _audit_rows(admin, nas_id)
        with site.connect("SERVICE", autocommit=True) as service:
            service.execute(
                "UPDATE nas SET uptime = '1d', free_memory = 5, last_seen_at = now() WHERE id = %s",
                (nas_id,),
            )
        after = admin.execute("SELECT updated_at FROM nas WHERE id = %s", (nas_id,)).fetchone()
        assert after == before
        assert _audit_rows(admin, nas_id) == audits
        with site.connect("FIELD_TECH", autocommit=True) as tech:
            tech.execute("UPDATE nas SET api_host = 'api.example.net' WHERE id = %s", (nas_id,))
        changed = admin.execute("SELECT updated_at FROM nas WHERE id = %s", (nas_id,)).fetchone()
        assert changed != before
        assert _audit_rows(admin, nas_id) == audits + 1
