"""A package change reaches subscribers who are online (migration 0024): the change queues a
CHANGE_RATE_LIMIT in its own transaction, and the command worker sends the CoA with the new
Mikrotik-Rate-Limit to the simulated router. Subscribers in the expired pool, and offline
ones, get nothing; a second change while one waits queues nothing more. A data-capped
customer whose cap for the period is used up is disconnected instead of being given the
package's full speed, so the next login gets RADIUS auth's cap decision."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from easyisp_core.db.engine import make_engine
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import ServiceCommandStatus
from easyisp_core.services.customer_actions import change_package
from easyisp_core.services.packages import PackageFields, create_package, update_package
from easyisp_core.services.staff import create_staff
from tests.service.radius.conftest import EXPIRED_USER, HOTSPOT_USER, PPPOE_USER
from tests.service.radius.session_control_support import Site, site

__all__ = ["site"]

PASSWORD = "Care-Desk-2026!"


def rate_commands(site: Site) -> list[dict[str, Any]]:
    with site.sessions() as session:
        rows = session.execute(
            text(
                "SELECT q.id, c.username, q.status, q.nas_id, q.payload FROM service_commands q"
                " JOIN customers c ON c.id = q.customer_id"
                " WHERE q.kind = 'CHANGE_RATE_LIMIT' ORDER BY q.id"
            )
        )
        return [dict(row._mapping) for row in rows]


def package_id(site: Site, name: str) -> Any:
    with site.sessions() as session:
        return session.execute(
            text("SELECT id FROM packages WHERE name = :n"), {"n": name}
        ).scalar_one()


def edit_package(site: Site, name: str, **changes: Any) -> None:
    """The console's package form: every field as stored, with `changes` typed over it."""
    columns = ", ".join(PackageFields.model_fields)
    with site.sessions() as session, session.begin():
        row = session.execute(
            text(f"SELECT {columns} FROM packages WHERE name = :n"),
            {"n": name},
        ).one()
        update_package(session, package_id(site, name), {**dict(row._mapping), **changes})


def test_a_package_speed_edit_pushes_the_new_rate_limit_to_everyone_online_on_it(
    site: Site,
) -> None:
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    site.router.connect(EXPIRED_USER, "sess-carol", "10.10.0.8")  # in the expired pool
    edit_package(site, "Home 5M", download_speed=Decimal("8"), price=Decimal("2500"))

    (command,) = rate_commands(site)  # alice only: carol is expired, nobody else online
    assert command["username"] == PPPOE_USER
    assert command["nas_id"] is not None
    assert command["payload"] == {"reason": "package speed changed"}

    assert asyncio.run(site.worker().run_pending()) == 1
    (command,) = rate_commands(site)
    assert command["status"] == ServiceCommandStatus.DONE
    new_rate = site.router.sessions["sess-alice"].rate_limit
    assert new_rate is not None
    assert new_rate.startswith("2M/8M 4M/10M ")  # upload/download, as the router sees it
    assert site.router.sessions["sess-carol"].rate_limit is None

    # A change that is not a speed (the price) sends nothing.
    edit_package(site, "Home 5M", price=Decimal("2600"))
    assert len(rate_commands(site)) == 1


def test_moving_an_online_customer_to_another_package_pushes_its_rate_once(site: Site) -> None:
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    with site.sessions() as session, session.begin():
        tenant = session.execute(text("SELECT name FROM tenants")).scalar_one()
        for name, down in (("Home 10M", "10"), ("Home 50M", "50")):
            create_package(
                session,
                {
                    "tenant": tenant, "name": name, "type": "PPPOE", "price": Decimal("3000"),
                    "download_speed": Decimal(down), "upload_speed": Decimal("5"),
                    "validity_value": 30, "validity_unit": "DAYS",
                },
            )  # fmt: skip
    alice = site.customer_id(PPPOE_USER)
    for name in ("Home 10M", "Home 50M"):  # changed twice before the worker runs
        with site.sessions() as session, session.begin():
            change_package(session, alice, package_id(site, name))

    (command,) = rate_commands(site)  # the waiting command reads the package when it runs
    assert command["payload"] == {"reason": "package changed"}
    asyncio.run(site.worker().run_pending())
    assert site.router.sessions["sess-alice"].rate_limit == "5M/50M"


def test_offline_expired_and_suspended_customers_get_no_coa(site: Site) -> None:
    site.router.connect(EXPIRED_USER, "sess-carol", "10.10.0.8")
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    site.set_customer(PPPOE_USER, status="SUSPENDED")
    hotspot_package = package_id(site, "Hotspot 1 day")
    for username in (EXPIRED_USER, PPPOE_USER, HOTSPOT_USER):  # hotspot-bob is offline
        with site.sessions() as session, session.begin():
            change_package(session, site.customer_id(username), hotspot_package)
    assert rate_commands(site) == []

    # The same change for an online, active, unexpired customer does queue: only theirs.
    site.set_customer(PPPOE_USER, status="ACTIVE")
    with site.sessions() as session, session.begin():
        change_package(session, site.customer_id(PPPOE_USER), package_id(site, "Home 5M"))
    (command,) = rate_commands(site)
    assert command["username"] == PPPOE_USER


def test_customer_care_changing_a_package_queues_the_coa_through_the_database(
    site: Site,
) -> None:
    """Through the staff member's own login: the trigger's function queues the command
    whatever the staff member's own grants on service_commands are."""
    username = f"care.{secrets.token_hex(3)}"
    with site.sessions() as session, session.begin():
        tenant = session.execute(text("SELECT name FROM tenants")).scalar_one()
        create_staff(
            session,
            {"tenant": tenant, "username": username, "full_name": "Care", "role": "CUSTOMER_CARE"},
            PASSWORD,
        )
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    url = make_url(site.url).set(username=username, password=PASSWORD)
    engine = make_engine(url.render_as_string(hide_password=False), application_name="care")
    try:
        with sessionmaker(engine)() as session, session.begin():
            change_package(session, site.customer_id(PPPOE_USER), package_id(site, "Home 5M"))
            change_package(session, site.customer_id(PPPOE_USER), package_id(site, "Hotspot 1 day"))
    finally:
        engine.dispose()
    (command,) = rate_commands(site)
    assert command["username"] == PPPOE_USER


GIB = 1024**3


def used_this_period(site: Site, username: str, octets: int) -> None:
    """An earlier session of this period, closed, that moved `octets`."""
    with site.sessions() as session, session.begin():
        session.add(
            RadiusSession(
                tenant_id=site.tenant_id(),
                customer_id=site.customer_id(username),
                username=username,
                session_id=f"earlier-{secrets.token_hex(3)}",
                started_at=site.clock() - timedelta(hours=2),
                stopped_at=site.clock() - timedelta(hours=1),
                input_octets=octets // 2,
                output_octets=octets - octets // 2,
            )
        )


def test_a_capped_customer_whose_cap_is_used_up_is_disconnected_not_given_full_speed(
    site: Site,
) -> None:
    edit_package(site, "Home 5M", data_cap_bytes=2 * GIB)
    used_this_period(site, PPPOE_USER, 3 * GIB)
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    edit_package(site, "Home 5M", download_speed=Decimal("8"))
    (command,) = rate_commands(site)

    asyncio.run(site.worker().run_pending())
    row = site.command(command["id"])
    assert row.status == ServiceCommandStatus.DONE
    assert row.result == "disconnected 1 session(s)"
    assert "sess-alice" not in site.router.sessions  # cut, never re-rated
    assert [p.code for p in site.router.received] == [40]  # one Disconnect-Request, no CoA
    assert site.session_row("sess-alice")["stopped_at"] is not None
    steps = [(step["step"], step["detail"]) for step in row.steps]
    assert steps[0][0] == "cap-used-up"
    assert steps[0][1].startswith(
        "this period's data cap is used up: disconnecting instead of CoA 2M/8M "
    )


def test_a_capped_customer_with_data_left_gets_the_coa(site: Site) -> None:
    edit_package(site, "Home 5M", data_cap_bytes=2 * GIB)
    used_this_period(site, PPPOE_USER, GIB)
    site.router.connect(PPPOE_USER, "sess-alice", "10.10.0.7")
    edit_package(site, "Home 5M", download_speed=Decimal("8"))

    asyncio.run(site.worker().run_pending())
    (command,) = rate_commands(site)
    assert command["status"] == ServiceCommandStatus.DONE
    rate = site.router.sessions["sess-alice"].rate_limit
    assert rate is not None
    assert rate.startswith("2M/8M ")
