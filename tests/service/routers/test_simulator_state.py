"""The simulated router's menus: ids, look-ups, queries, RouterOS-style refusals."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radius_service.simulator.routeros.menus import MENUS
from radius_service.simulator.routeros.state import RouterState, Trap, format_duration


def test_ids_count_up_in_hex_like_routeros() -> None:
    state = RouterState("7.16")
    ids = [
        state.execute("/ip/pool/add", {"name": f"p{n}", "ranges": "10.0.0.2"}).ret
        for n in range(11)
    ]
    assert ids[8:] == ["*9", "*A", "*B"]


def test_an_item_is_found_by_id_or_by_name_and_several_can_be_removed() -> None:
    state = RouterState("7.16")
    for name in ("a", "b", "c"):
        state.execute("/ppp/secret/add", {"name": name})
    state.execute("/ppp/secret/set", {".id": "b", "password": "new"})
    assert state.rows("/ppp/secret")[1]["password"] == "new"
    state.execute("/ppp/secret/remove", {".id": "*1,c"})
    assert [row["name"] for row in state.rows("/ppp/secret")] == ["b"]
    with pytest.raises(Trap, match="no such item"):
        state.execute("/ppp/secret/set", {".id": "*7", "password": "x"})


def test_renaming_onto_an_existing_name_is_refused_and_changes_nothing() -> None:
    state = RouterState("7.16")
    state.execute("/ppp/profile/add", {"name": "5M"})
    with pytest.raises(Trap, match="failure: already have such name"):
        state.execute("/ppp/profile/set", {".id": "5M", "name": "default"})
    assert [row["name"] for row in state.rows("/ppp/profile")] == [
        "default",
        "default-encryption",
        "5M",
    ]


def test_address_list_entries_are_unique_per_list_and_address() -> None:
    state = RouterState("6.49.10")
    state.execute("/ip/firewall/address-list/add", {"list": "expired", "address": "10.0.0.5"})
    state.execute("/ip/firewall/address-list/add", {"list": "other", "address": "10.0.0.5"})
    with pytest.raises(Trap, match="already have such entry"):
        state.execute("/ip/firewall/address-list/add", {"list": "expired", "address": "10.0.0.5"})


def test_missing_required_fields_and_unknown_references_are_refused() -> None:
    state = RouterState("7.16")
    with pytest.raises(Trap, match="address not specified"):
        state.execute("/radius/add", {"secret": "s"})
    with pytest.raises(Trap, match="input does not match any value of group"):
        state.execute("/user/add", {"name": "ops", "group": "nope"})
    with pytest.raises(Trap, match="no such command"):
        state.execute("/system/identity/add", {"name": "x"})


def test_booleans_written_as_yes_no_print_as_true_false() -> None:
    state = RouterState("7.16")
    state.execute("/ppp/secret/add", {"name": "a", "disabled": "yes"})
    assert state.execute("/ppp/secret/print", {}).rows[0]["disabled"] == "true"


def test_queries_compare_numbers_and_test_presence() -> None:
    state = RouterState("7.16")
    for port in ("1812", "999", "31000"):
        state.execute("/radius/add", {"address": "10.0.0.1", "authentication-port": port})

    def ports(*queries: str) -> list[str]:
        rows = state.execute("/radius/print", {}, queries).rows
        return [row["authentication-port"] for row in rows]

    assert ports("?>authentication-port=1000") == ["1812", "31000"]
    assert ports("?<authentication-port=1000") == ["999"]
    assert ports("?secret") == ["1812", "999", "31000"]
    assert ports("?-secret") == []
    assert ports("?authentication-port=999", "?authentication-port=1812", "?#|!") == ["31000"]


def test_wireguard_public_key_is_derived_from_the_private_key() -> None:
    state = RouterState("7.16")
    state.execute(
        "/interface/wireguard/add",
        {"name": "wg", "private-key": "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="},
    )
    wg = state.execute("/interface/wireguard/print", {}).rows[0]
    assert wg["public-key"] == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="


def test_v6_has_no_wireguard_and_v7_aaa_has_ipv6_accounting() -> None:
    with pytest.raises(Trap, match="no such command prefix"):
        RouterState("6.49.10").execute("/interface/wireguard/print", {})
    aaa = RouterState("7.16").execute("/ppp/aaa/print", {}).rows[0]
    assert aaa["enable-ipv6-accounting"] == "false"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59, "59s"), (3723, "1h2m3s"), (694861, "1w1d1h1m1s")]
)
def test_durations_are_written_the_routeros_way(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


_paths = [menu.path for menu in MENUS] + ["/", "", "/nope", "/ppp"]
_commands = st.builds(
    lambda path, verb: f"{path}/{verb}",
    st.sampled_from(_paths),
    st.sampled_from(["print", "add", "set", "remove", "getall", ""]),
) | st.text(max_size=30)
_FIELDS = [".id", "numbers", "name", ".proplist", "list", "address", "group", "interface",
           "private-key", "disabled", "ranges", "chain"]  # fmt: skip
_VALUES = ["*1", "*2", "default", "yes", "full", "wg", "", "1,2", "*1,*2"]
_names = st.sampled_from(_FIELDS) | st.text(max_size=8)
_values = st.sampled_from(_VALUES) | st.text(max_size=12)
_queries = st.lists(
    st.sampled_from(["?#|", "?#&", "?#!", "?#.", "?#x", "?name", "?-name", "?<mtu=10"])
    | st.text(max_size=12).map(lambda text: "?" + text),
    max_size=5,
)


@settings(max_examples=400, deadline=None)
@given(
    version=st.sampled_from(["6.40.9", "6.49.10", "7.16", "7.19"]),
    steps=st.lists(
        st.tuples(_commands, st.dictionaries(_names, _values, max_size=4), _queries),
        min_size=1,
        max_size=6,
    ),
)
def test_any_command_either_works_or_traps(
    version: str, steps: list[tuple[str, dict[str, str], list[str]]]
) -> None:
    state = RouterState(version)
    for command, attributes, queries in steps:
        with contextlib.suppress(Trap):
            state.execute(command, attributes, queries)


def test_a_refused_multi_item_change_changes_nothing() -> None:
    state = RouterState("7.16")
    state.execute("/ppp/secret/add", {"name": "a"})
    with pytest.raises(Trap, match="no such item"):
        state.execute("/ppp/secret/remove", {".id": "*1,*9"})
    with pytest.raises(Trap, match="no such item"):
        state.execute("/ppp/secret/set", {".id": "*1,*9", "password": "x"})
    assert state.rows("/ppp/secret")[0]["name"] == "a"
    assert "password" not in state.rows("/ppp/secret")[0]


@pytest.mark.parametrize("version", ["foo", "7", "67.1", "8.1", "7.x", ""])
def test_only_routeros_6_and_7_versions_are_played(version: str) -> None:
    with pytest.raises(ValueError, match="not a RouterOS 6 or 7 version"):
        RouterState(version)


def test_rules_move_before_a_destination_or_to_the_end_and_dynamic_ones_stay() -> None:
    state = RouterState("7.16")
    ids = [
        state.execute("/ip/firewall/filter/add", {"chain": "input", "comment": name}).ret
        for name in ("a", "b", "c")
    ]
    dynamic = state.add_row("/ip/firewall/filter", {"chain": "input", "dynamic": "true"})

    def order() -> list[str]:
        return [row.get("comment", "") for row in state.rows("/ip/firewall/filter")]

    state.execute("/ip/firewall/filter/move", {"numbers": ids[2], "destination": ids[0]})
    assert order() == ["c", "a", "b", ""]
    state.execute("/ip/firewall/filter/move", {"numbers": ids[2]})
    assert order() == ["a", "b", "", "c"]
    state.execute("/ip/firewall/filter/move", {"numbers": f"{ids[1]},{ids[0]}",
                                                "destination": ids[2]})  # fmt: skip
    assert order() == ["", "b", "a", "c"]
    for refused in ({"numbers": dynamic}, {"numbers": ids[0], "destination": dynamic}):
        with pytest.raises(Trap, match="cannot move dynamic"):
            state.execute("/ip/firewall/filter/move", refused)
    with pytest.raises(Trap, match="no such command"):
        state.execute("/ppp/profile/move", {"numbers": "*1"})
    with pytest.raises(Trap, match="unknown parameter"):
        state.execute("/ip/firewall/filter/move", {"numbers": ids[0], "place-before": ids[1]})
    assert order() == ["", "b", "a", "c"]
