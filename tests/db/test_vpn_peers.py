"""WireGuard peers: unique addresses under concurrent creation, across tenants, and status."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from ipaddress import ip_address

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.errors import Conflict, PermissionDenied
from easyisp_core.models import AuditLog, Nas
from easyisp_core.models.enums import VpnPeerStatus
from easyisp_core.onboarding.syntax import check_script
from easyisp_core.repositories.vpn import VpnRepository
from easyisp_core.services.nas import NAS_SECRET
from easyisp_core.services.onboarding import onboarding_script
from easyisp_core.services.tenants import create_tenant
from easyisp_core.services.vpn import (
    VpnSiteInfo,
    create_peer_for_nas,
    publish_site,
    read_site,
    reveal_peer_private_key,
    set_peer_status,
)
from easyisp_core.wireguard_keys import public_key_of
from tests import pg
from tests.db.security_site import SecuritySite, build_site
from tests.factories import make_nas, make_tenant

SITE = VpnSiteInfo(
    "wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", "203.0.113.10", 51820,
    "10.10.0.0/16",
)  # fmt: skip


def test_routers_added_at_once_from_many_connections_get_distinct_addresses(
    fresh_db_url: str, secret_box: SecretBox
) -> None:
    engine = make_engine(fresh_db_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    workers = 8
    try:
        with session_scope(factory) as session:
            publish_site(session, SITE)
            tenants = [
                create_tenant(session, {"name": f"isp{i}", "display_name": f"ISP {i}"})
                for i in range(2)
            ]
            nas_ids = [make_nas(session, secret_box, tenants[i % 2]).id for i in range(workers)]

        barrier = threading.Barrier(workers)
        addresses: list[str] = []
        errors: list[BaseException] = []

        def add_peer(nas_id: uuid.UUID) -> None:
            try:
                barrier.wait()
                with session_scope(factory) as session:
                    nas = session.get(Nas, nas_id)
                    assert nas is not None
                    addresses.append(create_peer_for_nas(session, secret_box, nas).assigned_ip)
            except BaseException as exc:  # reported below, in the test's own thread
                errors.append(exc)

        threads = [threading.Thread(target=add_peer, args=(n,)) for n in nas_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert sorted(addresses, key=ip_address) == [f"10.10.0.{h}" for h in range(2, 10)]
        with session_scope(factory) as session:
            vpn_ips = {str(n.vpn_ip) for n in session.scalars(select(Nas))}
            assert vpn_ips == set(addresses)
    finally:
        engine.dispose()


def test_a_peer_has_a_real_key_pair_stored_encrypted_and_one_per_router(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    nas = session.get(Nas, make_nas(session, secret_box, tenant).id)
    assert nas is not None
    peer = create_peer_for_nas(session, secret_box, nas)
    private = reveal_peer_private_key(session, secret_box, peer.id)
    assert public_key_of(private) == peer.public_key
    assert private.encode() not in bytes(VpnRepository(session).peer_private_key(peer.id) or b"")
    with pytest.raises(Conflict, match="already has a VPN peer"):
        create_peer_for_nas(session, secret_box, nas)


def test_disabled_peers_leave_the_active_list(session: Session, secret_box: SecretBox) -> None:
    tenant = make_tenant(session)
    nas = session.get(Nas, make_nas(session, secret_box, tenant).id)
    assert nas is not None
    peer = create_peer_for_nas(session, secret_box, nas)
    repo = VpnRepository(session)
    assert (peer.public_key, peer.assigned_ip) in repo.active_peers()
    assert set_peer_status(session, peer.id, VpnPeerStatus.DISABLED).status == "DISABLED"
    assert (peer.public_key, peer.assigned_ip) not in repo.active_peers()
    set_peer_status(session, peer.id, VpnPeerStatus.ACTIVE)
    assert (peer.public_key, peer.assigned_ip) in repo.active_peers()


def test_the_site_identity_is_one_row_updated_in_place(session: Session) -> None:
    publish_site(session, SITE)
    publish_site(session, VpnSiteInfo(**{**SITE.__dict__, "endpoint_port": 51821}))
    site = read_site(session)
    assert site is not None
    assert site.endpoint_port == 51821
    assert site.address_range == "10.10.0.0/16"
    with pytest.raises(ValueError, match="WireGuard key"):
        publish_site(session, VpnSiteInfo(**{**SITE.__dict__, "public_key": "nope"}))


@pytest.fixture(scope="module")
def site(admin_url: str, template_db: str) -> Iterator[SecuritySite]:
    name = pg.create_database(admin_url, "easyisp_test_vpn", template=template_db)
    try:
        yield build_site(admin_url, pg.database_url(admin_url, name))
    finally:
        pg.drop_database(admin_url, name)


def test_staff_of_two_tenants_never_get_the_same_address(
    site: SecuritySite, secret_box: SecretBox
) -> None:
    """RLS hides tenant A's peers from tenant B's staff; allocation must still skip them."""
    got: list[str] = []
    peers: list[uuid.UUID] = []
    for rows, role in ((site.a, "FIELD_TECH"), (site.b, "ADMIN_B")):
        engine = make_engine(site.url_for(site.logins[role]))
        try:
            with session_scope(sessionmaker(engine, expire_on_commit=False)) as session:
                nas = session.get(Nas, rows.ids["nas"])
                assert nas is not None
                peer = create_peer_for_nas(session, secret_box, nas)
                got.append(peer.assigned_ip)
                peers.append(peer.id)
                reveal_peer_private_key(session, secret_box, peer.id)
        finally:
            engine.dispose()
    assert got == ["10.10.0.2", "10.10.0.3"]
    # Reading a key back is audited (checked as the owner: field techs cannot read the log).
    owner = make_engine(site.db_url)
    try:
        with session_scope(sessionmaker(owner)) as session:
            actions = session.scalars(
                select(AuditLog.action).where(AuditLog.target_vpn_peer_id.in_(peers))
            ).all()
            assert actions.count("VPN_KEY_READ") == 2
    finally:
        owner.dispose()


def test_a_viewer_can_read_the_site_but_not_allocate_or_read_keys(
    site: SecuritySite, secret_box: SecretBox
) -> None:
    engine = make_engine(site.url_for(site.logins["VIEWER"]))
    try:
        with session_scope(sessionmaker(engine, expire_on_commit=False)) as session:
            assert read_site(session) is not None
        with (
            pytest.raises(DBAPIError, match=r"vpn\.write is required"),
            session_scope(sessionmaker(engine, expire_on_commit=False)) as session,
        ):
            VpnRepository(session).used_addresses()
        with (
            pytest.raises(PermissionDenied),
            session_scope(sessionmaker(engine, expire_on_commit=False)) as session,
        ):
            reveal_peer_private_key(session, secret_box, site.a.ids["vpn_peer"])
    finally:
        engine.dispose()


def test_a_field_tech_gets_the_script_and_a_viewer_does_not(
    site: SecuritySite, secret_box: SecretBox
) -> None:
    owner = make_engine(site.db_url)
    try:
        with session_scope(sessionmaker(owner)) as session:
            # The seeded router's secret is a placeholder; give it a real one.
            session.execute(
                update(Nas)
                .where(Nas.id == site.a.ids["nas"])
                .values(secret_enc=secret_box.encrypt("Radius-secret-1", NAS_SECRET))
            )
    finally:
        owner.dispose()
    for role, allowed in (("FIELD_TECH", True), ("VIEWER", False)):
        engine = make_engine(site.url_for(site.logins[role]))
        try:
            factory = sessionmaker(engine, expire_on_commit=False)
            if not allowed:
                with pytest.raises(PermissionDenied), session_scope(factory) as session:
                    onboarding_script(session, secret_box, site.a.name, "router")
                continue
            with session_scope(factory) as session:
                script = onboarding_script(session, secret_box, site.a.name, "router")
            assert check_script(script.text) == []
            assert "interface=wg-easyisp" in script.text
        finally:
            engine.dispose()
