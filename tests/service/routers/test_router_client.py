"""RouterClient (librouteros underneath) against the simulator over real TCP, RouterOS 6 and 7."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from radius_service.routers.errors import CommandNotSupported, RouterTrap
from radius_service.simulator.routeros.controller import SimulatorThread
from radius_service.simulator.routeros.sessions import add_hotspot_session, add_ppp_session
from tests.service.routers.conftest import VERSIONS, client_for, endpoint_for, run

Start = Callable[..., SimulatorThread]


@pytest.mark.parametrize("version", VERSIONS)
def test_connection_test_reports_identity_version_board_and_load(
    start_sim: Start, version: str
) -> None:
    sim = start_sim(version)
    sim.state.execute("/system/identity/set", {"name": "core-nairobi"})

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            info = await client.test_connection()
            assert info.identity == "core-nairobi"
            assert info.version == f"{version} (stable)"
            assert info.major_version == int(version[0])
            assert info.board == "RB4011iGS+"
            assert info.cpu_load == 3
            assert 0 < info.free_memory < info.total_memory
            assert info.uptime

    run(scenario())


@pytest.mark.parametrize("version", VERSIONS)
def test_add_print_set_remove_round_trip(start_sim: Start, version: str) -> None:
    sim = start_sim(version)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            first = await client.add("/ppp/secret", name="alice", password="pw", profile="default")
            second = await client.add("/ppp/secret", name="bob", password="pw2", disabled=True)
            assert (first, second) == ("*1", "*2")
            rows = await client.print("/ppp/secret", proplist=["name", "disabled"])
            assert rows == [
                {"name": "alice", "disabled": "false"},
                {"name": "bob", "disabled": "true"},
            ]
            await client.set("/ppp/secret", first, remote_address="10.0.0.9", disabled=True)
            alice = await client.print("/ppp/secret", query={"name": "alice"})
            assert alice[0][".id"] == "*1"
            assert alice[0]["remote-address"] == "10.0.0.9"
            assert alice[0]["disabled"] == "true"
            await client.remove("ppp secret", second)
            names = [row["name"] for row in await client.print("/ppp/secret")]
            assert names == ["alice"]

    run(scenario())


@pytest.mark.parametrize("version", VERSIONS)
def test_every_menu_the_service_configures_answers_print(start_sim: Start, version: str) -> None:
    sim = start_sim(version)
    menus = [
        "/system/identity", "/system/resource", "/system/routerboard", "/ppp/active",
        "/ppp/profile", "/ppp/aaa", "/ppp/secret", "/ip/hotspot/active", "/ip/hotspot/profile",
        "/ip/hotspot/user/profile", "/ip/hotspot/walled-garden", "/ip/hotspot/walled-garden/ip",
        "/radius", "/radius/incoming", "/ip/firewall/address-list", "/ip/firewall/nat",
        "/ip/firewall/filter", "/ip/address", "/ip/pool", "/user", "/user/group",
        "/interface", "/interface/pppoe-server/server", "/ip/hotspot/user",
    ]  # fmt: skip

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            for menu in menus:
                assert isinstance(await client.print(menu), list), menu
            users = await client.print("/user")
            assert users[0]["name"] == "admin"
            assert "password" not in users[0]

    run(scenario())


@pytest.mark.parametrize("version", VERSIONS)
def test_single_row_menus_are_set_without_an_id(start_sim: Start, version: str) -> None:
    sim = start_sim(version)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.set("/ppp/aaa", None, use_radius=True, interim_update="5m")
            await client.set("/radius/incoming", None, accept=True)
            aaa = (await client.print("/ppp/aaa"))[0]
            assert (aaa["use-radius"], aaa["interim-update"]) == ("true", "5m")
            assert (await client.print("/radius/incoming"))[0]["accept"] == "true"
            await client.set("/ip/hotspot/profile", "default", use_radius=True)
            profile = await client.print("/ip/hotspot/profile", query={"name": "default"})
            assert profile[0]["use-radius"] == "true"

    run(scenario())


@pytest.mark.parametrize("version", VERSIONS)
def test_router_refusals_come_back_with_the_routers_message(start_sim: Start, version: str) -> None:
    sim = start_sim(version)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.add("/ip/pool", name="pppoe-pool", ranges="10.20.0.2-10.20.3.254")
            with pytest.raises(RouterTrap) as duplicate:
                await client.add("/ip/pool", name="pppoe-pool", ranges="10.9.0.2-10.9.0.9")
            assert duplicate.value.message == "failure: already have such name"
            assert "already have such name" in duplicate.value.user_message
            with pytest.raises(RouterTrap) as missing:
                await client.remove("/ip/pool", "*99")
            assert missing.value.message == "no such item"
            with pytest.raises(CommandNotSupported):
                await client.print("/ip/nonsense")
            # The connection is still in step after the traps.
            pools = await client.print("/ip/pool", proplist=["name"])
            assert pools == [{"name": "pppoe-pool"}]

    run(scenario())


@pytest.mark.parametrize("version", VERSIONS)
def test_active_sessions_are_listed_and_a_user_is_disconnected(
    start_sim: Start, version: str
) -> None:
    sim = start_sim(version, sessions=3)
    add_ppp_session(sim.state, "alice", number=40)
    add_hotspot_session(sim.state, "alice", number=41)

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            ppp = await client.ppp_active()
            hotspot = await client.hotspot_active()
            assert [s.name for s in ppp] == ["ppp0001", "ppp0002", "ppp0003", "alice"]
            assert ppp[0].service == "pppoe"
            assert ppp[0].caller_id == "02:00:00:00:00:01"
            assert ppp[0].id == "*1"
            assert [s.user for s in hotspot] == ["hs0001", "hs0002", "hs0003", "alice"]
            assert hotspot[1].bytes_in == 2000
            assert await client.disconnect("alice") is True
            assert await client.disconnect("alice") is False
            assert await client.disconnect("nobody") is False
            assert "alice" not in [s.name for s in await client.ppp_active()]
            assert "alice" not in [s.user for s in await client.hotspot_active()]
            assert len(await client.ppp_active()) == 3

    run(scenario())


def test_wireguard_works_on_routeros_7(start_sim: Start) -> None:
    sim = start_sim("7.16")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            await client.add("/interface/wireguard", name="wg-mgmt", listen_port=13231)
            wg = (await client.print("/interface/wireguard"))[0]
            assert len(wg["public-key"]) == 44
            assert wg["public-key"].endswith("=")
            peer = await client.add(
                "/interface/wireguard/peers",
                interface="wg-mgmt",
                public_key="hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                allowed_address="10.99.0.2/32",
            )
            assert peer == "*1"
            with pytest.raises(RouterTrap, match="input does not match any value of interface"):
                await client.add("/interface/wireguard/peers", interface="wg-nope", public_key="x")

    run(scenario())


def test_wireguard_on_routeros_6_is_reported_as_needing_routeros_7(start_sim: Start) -> None:
    sim = start_sim("6.49.10")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            with pytest.raises(CommandNotSupported) as caught:
                await client.print("/interface/wireguard/peers")
            assert caught.value.version == "6.49.10 (stable)"
            assert "needs RouterOS 7" in caught.value.user_message

    run(scenario())


def test_pre_643_router_is_logged_in_with_the_md5_challenge(start_sim: Start) -> None:
    sim = start_sim("6.40.9")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            info = await client.test_connection()
            assert info.version == "6.40.9 (stable)"
        assert sim.simulator.logins == 1

    run(scenario())


def test_empty_reply_of_routeros_718_reads_as_no_rows(start_sim: Start) -> None:
    sim = start_sim("7.19")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            assert await client.print("/ppp/active") == []
            assert await client.print("/ppp/secret", query={"name": "nobody"}) == []
            assert (await client.print("/system/identity"))[0]["name"] == "MikroTik"

    run(scenario())


def test_concurrent_callers_share_one_connection_in_order(start_sim: Start) -> None:
    sim = start_sim("7.16")

    async def scenario() -> None:
        async with client_for(endpoint_for(sim.address)) as client:
            ids = await asyncio.gather(
                *(client.add("/ip/firewall/address-list", list="x", address=f"10.0.0.{n}")
                  for n in range(1, 21))
            )  # fmt: skip
            assert ids == [f"*{n:X}" for n in range(1, 21)]  # first queued, first run
            assert client.queue.connects == 1
        assert sim.simulator.logins == 1
        assert len(sim.state.rows("/ip/firewall/address-list")) == 20

    run(scenario())
