"""Router sync against the RouterOS simulator over real TCP (v6 and v7), with the desired state
built from a real database: fresh router, idempotent second run, operator drift, package
changes, and the preview the operator reads first."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import ValidationFailed
from easyisp_core.models import Nas, Package
from easyisp_core.onboarding.secret_check import radius_comment
from easyisp_core.services.nas import nas_fields, update_nas
from easyisp_core.services.results import PackageInfo, TenantInfo
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from radius_service.routers.client import RouterClient
from radius_service.routers.desired_inputs import load_desired_state
from radius_service.routers.desired_state import MPESA_HOSTS, PRUNED_PATHS, RouterDesiredState
from radius_service.routers.errors import RouterTrap
from radius_service.routers.sync import apply_changes, preview_sync, sync_router
from radius_service.routers.sync_changes import owned_key
from radius_service.routers.sync_plan import RouterChange
from radius_service.routers.sync_preview import describe_plan
from radius_service.simulator.routeros.controller import SimulatorThread
from tests.factories import make_nas, make_package, make_tenant
from tests.service.routers.conftest import VERSIONS, client_for, endpoint_for, run

PORTAL_HOST = "pay.example-isp.co.ke"
PORTAL_ADDRESS = "192.0.2.80"
SECRET = "Radius-secret-1"
# The onboarding script's API group: no `sensitive` policy, so prints hide secrets.
API_USER, API_PASSWORD, API_POLICY = "easyisp", "Api-pass-2026", "api,read,write,test"


class Site:
    """A tenant with one PPPoE and one hotspot package and a router, in the test database."""

    def __init__(self, session: Session, box: SecretBox) -> None:
        self.session, self.box = session, box
        publish_site(
            session,
            VpnSiteInfo("wg-easyisp", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                        "203.0.113.10", 51820, "10.10.0.0/16"),
        )  # fmt: skip
        self.tenant: TenantInfo = make_tenant(session)
        self.home: PackageInfo = make_package(session, self.tenant, name="Home 5M")
        self.hour: PackageInfo = make_package(
            session, self.tenant, name="1 Hour", type="HOTSPOT", download_speed=Decimal("3"),
            upload_speed=Decimal("1"), validity_value=1, validity_unit="HOURS", shared_users=2,
        )  # fmt: skip
        self.nas_id = make_nas(session, box, self.tenant, secret=SECRET, api_username=API_USER,
                               api_password=API_PASSWORD).id  # fmt: skip

    def desired(self) -> RouterDesiredState:
        return load_desired_state(
            self.session, self.box, self.nas_id,
            portal_host=PORTAL_HOST, portal_address=PORTAL_ADDRESS,
        )  # fmt: skip

    def package(self, info: PackageInfo) -> Package:
        package = self.session.get(Package, info.id)
        assert package is not None
        return package


@pytest.fixture
def site(session: Session, secret_box: SecretBox) -> Site:
    return Site(session, secret_box)


def api_client(sim: SimulatorThread) -> RouterClient:
    """Sets up the API user the onboarding script creates, and logs in as it."""
    admin = client_for(endpoint_for(sim.address))

    async def setup() -> None:
        async with admin:
            await admin.add("/user/group", name="easyisp-api", policy=API_POLICY)
            await admin.add("/user", name=API_USER, group="easyisp-api", password=API_PASSWORD)

    run(setup())
    return client_for(endpoint_for(sim.address, user=API_USER, password=API_PASSWORD))


def sync(client: RouterClient, desired: RouterDesiredState) -> list[RouterChange]:
    return run(sync_router(client, desired))


def preview(client: RouterClient, desired: RouterDesiredState) -> list[RouterChange]:
    return run(preview_sync(client, desired))


def single(sim: SimulatorThread, path: str) -> dict[str, str]:
    (row,) = sim.state.execute(f"{path}/print", {}).rows
    return row


def owned(sim: SimulatorThread, path: str) -> dict[str, dict[str, str]]:
    return {key: row for row in sim.state.rows(path) if (key := owned_key(row)) is not None}


def foreign(sim: SimulatorThread) -> list[dict[str, str]]:
    """Every row without our mark, in every list menu sync touches."""
    return [
        {"path": path, **row}
        for path in PRUNED_PATHS
        for row in sim.state.rows(path)
        if not row.get("comment", "").startswith("easyisp:")
    ]


# 7.19: empty menus (walled garden, firewall, pools on a fresh router) print as `!empty`.
@pytest.mark.parametrize("version", [*VERSIONS, "7.19"])
def test_a_fresh_router_is_brought_to_the_desired_state_and_a_second_sync_writes_nothing(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    desired = site.desired()
    writes = sim.state.writes

    made = sync(client, desired)
    assert sim.state.writes - writes == len(made) > 0

    radius = owned(sim, "/radius")["radius"]
    assert (radius["address"], radius["secret"], radius["service"]) == (
        "203.0.113.10", SECRET, "ppp,hotspot",
    )  # fmt: skip
    assert single(sim, "/radius/incoming") == {"accept": "true", "port": "3799"}
    aaa = single(sim, "/ppp/aaa")
    assert (aaa["use-radius"], aaa["accounting"], aaa["interim-update"]) == ("true", "true", "5m")
    (hotspot_profile,) = sim.state.rows("/ip/hotspot/profile")
    assert hotspot_profile["use-radius"] == "true"
    assert owned(sim, "/ppp/profile")["ppp-profile:Home 5M"]["rate-limit"] == "2M/5M"
    hour = owned(sim, "/ip/hotspot/user/profile")["hotspot-profile:1 Hour"]
    assert (hour["rate-limit"], hour["shared-users"]) == ("1M/3M", "2")
    redirect = owned(sim, "/ip/firewall/nat")["expired-redirect"]
    assert (redirect["src-address-list"], redirect["to-addresses"]) == (
        "easyisp-expired", PORTAL_ADDRESS,
    )  # fmt: skip
    filters = owned(sim, "/ip/firewall/filter")
    assert filters["expired-allow-portal"]["dst-address"] == PORTAL_ADDRESS
    assert filters["expired-drop"]["action"] == "drop"
    hosts = {row["dst-host"] for row in owned(sim, "/ip/hotspot/walled-garden").values()}
    assert hosts == {PORTAL_HOST, *MPESA_HOSTS}
    garden_ip = owned(sim, "/ip/hotspot/walled-garden/ip")["walled-garden-ip:portal"]
    assert garden_ip["dst-address"] == PORTAL_ADDRESS

    writes = sim.state.writes
    assert preview(client, desired) == []
    assert sync(client, desired) == []
    assert sim.state.writes == writes
    run(client.close())


@pytest.mark.parametrize("version", VERSIONS)
def test_operator_drift_is_repaired_and_their_own_entries_are_left_alone(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    desired = site.desired()
    sync(client, desired)
    profile_id = owned(sim, "/ppp/profile")["ppp-profile:Home 5M"][".id"]
    radius_id = owned(sim, "/radius")["radius"][".id"]

    async def operator_edits() -> None:
        async with client_for(endpoint_for(sim.address)) as admin:
            await admin.set("/ppp/profile", profile_id, **{"rate-limit": "10M/10M"})
            await admin.remove("/radius", radius_id)
            await admin.add("/radius", address="198.51.100.7", secret="theirs", service="login")
            await admin.add("/ppp/profile", name="staff", **{"rate-limit": "100M/100M"})
            await admin.add("/ip/firewall/filter", chain="forward", action="drop",
                            **{"src-address": "10.99.0.0/16"})  # fmt: skip
            await admin.add("/ip/hotspot/walled-garden", **{"dst-host": "*.their-bank.co.ke"})

    run(operator_edits())
    theirs = foreign(sim)
    plan = preview(client, desired)
    assert [(c.path, c.action, c.item_id) for c in plan] == [
        ("/radius", "add", None),
        ("/ppp/profile", "set", profile_id),
    ]
    writes = sim.state.writes
    assert sync(client, desired) == plan
    assert sim.state.writes - writes == 2
    assert foreign(sim) == theirs
    assert owned(sim, "/ppp/profile")["ppp-profile:Home 5M"]["rate-limit"] == "2M/5M"
    assert owned(sim, "/radius")["radius"]["secret"] == SECRET
    assert sync(client, desired) == []
    run(client.close())


@pytest.mark.parametrize("version", VERSIONS)
def test_a_package_rate_change_is_one_set_and_a_retired_package_is_removed(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    sync(client, site.desired())
    profile_id = owned(sim, "/ppp/profile")["ppp-profile:Home 5M"][".id"]

    site.package(site.home).download_speed = Decimal("10")
    site.session.flush()
    writes = sim.state.writes
    assert sync(client, site.desired()) == [
        RouterChange("/ppp/profile", "set", {"rate-limit": "2M/10M"}, profile_id,
                     "ppp-profile:Home 5M: rate-limit 2M/5M -> 2M/10M"),
    ]  # fmt: skip
    assert sim.state.writes - writes == 1

    hour_id = owned(sim, "/ip/hotspot/user/profile")["hotspot-profile:1 Hour"][".id"]
    site.package(site.hour).is_active = False
    site.session.flush()
    writes = sim.state.writes
    assert sync(client, site.desired()) == [
        RouterChange("/ip/hotspot/user/profile", "remove", {}, hour_id,
                     "hotspot-profile:1 Hour is no longer wanted"),
    ]  # fmt: skip
    assert sim.state.writes - writes == 1
    assert "hotspot-profile:1 Hour" not in owned(sim, "/ip/hotspot/user/profile")
    assert [r["name"] for r in sim.state.rows("/ip/hotspot/user/profile")] == ["default"]
    run(client.close())


def test_the_preview_lists_exactly_what_will_change_in_readable_lines(
    site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim("7.16")
    client = api_client(sim)
    sync(client, site.desired())
    profile_id = owned(sim, "/ppp/profile")["ppp-profile:Home 5M"][".id"]
    radius_id = owned(sim, "/radius")["radius"][".id"]

    async def operator_edits() -> None:
        async with client_for(endpoint_for(sim.address)) as admin:
            await admin.set("/ppp/profile", profile_id, **{"rate-limit": "10M/10M"})
            await admin.remove("/radius", radius_id)
            await admin.set("/ppp/aaa", None, **{"use-radius": "no"})

    run(operator_edits())
    site.package(site.hour).is_active = False
    site.session.flush()
    hour_id = owned(sim, "/ip/hotspot/user/profile")["hotspot-profile:1 Hour"][".id"]
    writes = sim.state.writes

    lines = describe_plan(preview(client, site.desired()))
    assert lines == [
        f"1. /ip/hotspot/user/profile remove {hour_id} "
        "(hotspot-profile:1 Hour is no longer wanted)",
        "2. /radius add: address=203.0.113.10 secret=*** service=ppp,hotspot timeout=3s "
        f'comment="{radius_comment(SECRET, API_PASSWORD)}" (radius is missing)',
        "3. /ppp/aaa set: use-radius=yes (use-radius false -> yes)",
        f"4. /ppp/profile set {profile_id}: rate-limit=2M/5M "
        "(ppp-profile:Home 5M: rate-limit 10M/10M -> 2M/5M)",
    ]
    assert SECRET not in "\n".join(lines)
    assert sim.state.writes == writes
    assert describe_plan([]) == ["Nothing to change: the router already matches."]
    run(client.close())


@pytest.mark.parametrize("version", VERSIONS)
def test_a_secret_changed_in_the_database_reaches_the_router_though_it_cannot_be_read(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    sync(client, site.desired())
    printed = run(client.print("/radius"))
    assert printed
    assert all("secret" not in row for row in printed)
    assert sync(client, site.desired()) == []

    fields = nas_fields(site.session, site.nas_id).model_copy(
        update={"secret": "Rotated-secret-2027"}
    )
    update_nas(site.session, site.box, site.nas_id, fields)
    site.session.flush()
    writes = sim.state.writes
    (change,) = sync(client, site.desired())
    assert change.reason == "radius: the secret changed in EasyISP"
    assert sim.state.writes - writes == 1
    radius = owned(sim, "/radius")["radius"]
    assert radius["secret"] == "Rotated-secret-2027"
    assert radius["comment"] == radius_comment("Rotated-secret-2027", API_PASSWORD)
    assert sync(client, site.desired()) == []

    # A hand edit on the router is invisible to the API user: re-sent only on request.
    run(_admin_sets_secret(sim, radius[".id"], "typed-by-hand"))
    assert sync(client, site.desired()) == []
    (resent,) = run(sync_router(client, site.desired(), resend_secrets=True))
    assert resent.params == {"secret": "Rotated-secret-2027"}
    assert owned(sim, "/radius")["radius"]["secret"] == "Rotated-secret-2027"
    run(client.close())


async def _admin_sets_secret(sim: SimulatorThread, radius_id: str, secret: str) -> None:
    async with client_for(endpoint_for(sim.address)) as admin:
        await admin.set("/radius", radius_id, secret=secret)


def test_a_remove_without_an_id_is_refused(start_sim: Callable[..., SimulatorThread]) -> None:
    sim = start_sim("7.16")
    client = client_for(endpoint_for(sim.address))
    with pytest.raises(ValueError, match=r"without an \.id"):
        run(apply_changes(client, [RouterChange("/radius", "remove")]))
    assert sim.state.writes == 0
    run(client.close())


def test_the_router_is_reached_at_its_vpn_address_with_its_stored_credentials(
    session: Session, secret_box: SecretBox
) -> None:
    from radius_service.routers.nas_endpoint import router_endpoint

    tenant = make_tenant(session)
    info = make_nas(session, secret_box, tenant, ip_address="198.51.100.20",
                    api_username="easyisp", api_password="Api-pass-2026")  # fmt: skip
    nas = session.get(Nas, info.id)
    assert nas is not None
    endpoint = router_endpoint(session, secret_box, nas)
    assert (endpoint.host, endpoint.api_port, endpoint.username, endpoint.password) == (
        "198.51.100.20", 8728, "easyisp", "Api-pass-2026",
    )  # fmt: skip
    nas.vpn_ip = "10.10.0.7"
    nas.api_use_tls = True
    session.flush()
    endpoint = router_endpoint(session, secret_box, nas)
    assert (endpoint.host, endpoint.api_port, endpoint.use_tls) == ("10.10.0.7", 8729, True)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_re_added_rule_goes_back_before_the_rules_that_depend_on_its_place(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    sync(client, site.desired())
    order = [row["comment"] for row in sim.state.rows("/ip/firewall/filter")]
    rules = owned(sim, "/ip/firewall/filter")

    async def operator_edits() -> None:
        async with client_for(endpoint_for(sim.address)) as admin:
            await admin.remove("/ip/firewall/filter", rules["api-from-site"][".id"])
            await admin.remove("/ip/firewall/filter", rules["expired-allow-portal"][".id"])

    run(operator_edits())
    plan = preview(client, site.desired())
    assert [(c.action, c.params["comment"], c.params["place-before"]) for c in plan] == [
        ("add", "easyisp:api-from-site", rules["coa-from-site"][".id"]),
        ("add", "easyisp:expired-allow-portal", rules["expired-drop"][".id"]),
    ]
    sync(client, site.desired())
    assert [row["comment"] for row in sim.state.rows("/ip/firewall/filter")] == order
    assert sync(client, site.desired()) == []
    run(client.close())


@pytest.mark.parametrize("version", VERSIONS)
def test_a_package_pool_missing_on_the_router_is_refused_before_any_write(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    site.package(site.home).address_pool = "pppoe-pool"
    site.session.flush()
    writes = sim.state.writes
    with pytest.raises(ValidationFailed, match=r"'Home 5M' uses 'pppoe-pool'.*/ip pool"):
        sync(client, site.desired())
    assert sim.state.writes == writes

    async def operator_adds_the_pool() -> None:
        async with client_for(endpoint_for(sim.address)) as admin:
            await admin.add("/ip/pool", name="pppoe-pool", ranges="10.20.0.2-10.20.255.254")

    run(operator_adds_the_pool())
    sync(client, site.desired())
    assert owned(sim, "/ppp/profile")["ppp-profile:Home 5M"]["remote-address"] == "pppoe-pool"
    assert sync(client, site.desired()) == []
    run(client.close())


def test_the_simulator_refuses_a_profile_naming_an_unknown_pool(
    start_sim: Callable[..., SimulatorThread],
) -> None:
    sim = start_sim("7.16")

    async def add_profiles() -> None:
        async with client_for(endpoint_for(sim.address)) as admin:
            await admin.add("/ppp/profile", name="by-address", **{"remote-address": "10.0.0.2"})
            with pytest.raises(RouterTrap, match="input does not match any value of address-pool"):
                await admin.add("/ip/hotspot/user/profile", name="x", **{"address-pool": "nope"})

    run(add_profiles())


@pytest.mark.parametrize("version", VERSIONS)
def test_an_operator_rule_put_above_ours_is_passed_by_moving_ours_back_to_the_top(
    version: str, site: Site, start_sim: Callable[..., SimulatorThread]
) -> None:
    sim = start_sim(version)
    client = api_client(sim)
    sync(client, site.desired())
    first = sim.state.rows("/ip/firewall/filter")[0][".id"]

    async def operator_edits() -> list[str]:
        async with client_for(endpoint_for(sim.address)) as admin:
            return [
                await admin.add("/ip/firewall/filter", chain="input", action="drop",
                                comment="drop all input", **{"place-before": first}),
                await admin.add("/ip/firewall/filter", chain="forward", action="accept",
                                comment="accept all forward", **{"place-before": first}),
            ]  # fmt: skip

    theirs = run(operator_edits())
    plan = preview(client, site.desired())
    assert [c.action for c in plan] == ["move"] * 6
    assert all(c.item_id not in theirs for c in plan)
    assert "above the operator's rules in chain input" in plan[0].reason
    assert '"drop all input"' in describe_plan(plan)[0]
    writes = sim.state.writes
    sync(client, site.desired())
    assert sim.state.writes - writes == 6
    chains = [(row["chain"], row["comment"]) for row in sim.state.rows("/ip/firewall/filter")]
    for chain in ("input", "forward"):
        comments = [comment for name, comment in chains if name == chain]
        assert all(c.startswith("easyisp:") for c in comments[:-1])
        assert not comments[-1].startswith("easyisp:")
    assert sync(client, site.desired()) == []
    run(client.close())
