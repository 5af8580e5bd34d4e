"""The RADIUS secret is never readable by our API user: sync keeps a keyed check of it in
the /radius entry's comment, re-sets the secret when the database's secret no longer matches
that check, and re-sends it on request (after a hand edit on the router)."""

from __future__ import annotations

import dataclasses

from easyisp_core.onboarding.secret_check import radius_comment, secret_check
from radius_service.routers.sync_plan import RouterChange, plan_sync
from radius_service.routers.sync_preview import describe_plan
from tests.unit.test_router_sync_plan import DESIRED, _apply, _load

SECRET, KEY = DESIRED.radius_secret, DESIRED.secret_check_key


def radius_changes(changes: list[RouterChange]) -> list[RouterChange]:
    return [c for c in changes if c.path == "/radius"]


def synced() -> dict[str, list[dict[str, str]]]:
    fresh = _load("fresh_router.json")
    return _apply(fresh, plan_sync(DESIRED, fresh))  # printouts hide the secret


def test_the_check_is_keyed_and_says_nothing_without_the_key() -> None:
    check = secret_check(SECRET, KEY)
    assert len(check) == 12
    assert int(check, 16) >= 0
    assert check == secret_check(SECRET, KEY)
    assert check != secret_check(SECRET + "x", KEY)
    assert check != secret_check(SECRET, KEY + "x")  # no guessing without the API password
    assert SECRET not in radius_comment(SECRET, KEY)


def test_a_synced_router_is_left_alone_though_the_secret_is_unreadable() -> None:
    state = synced()
    (row,) = state["/radius"]
    assert "secret" not in row
    assert row["comment"] == radius_comment(SECRET, KEY)
    assert plan_sync(DESIRED, state) == []


def test_a_secret_changed_in_the_database_is_set_on_the_router() -> None:
    state = synced()
    rotated = dataclasses.replace(DESIRED, radius_secret="New-secret-2027")
    (change,) = radius_changes(plan_sync(rotated, state))
    assert (change.action, change.item_id) == ("set", state["/radius"][0][".id"])
    assert change.params == {
        "secret": "New-secret-2027",
        "comment": radius_comment("New-secret-2027", KEY),
    }
    assert change.reason == "radius: the secret changed in EasyISP"
    lines = "\n".join(describe_plan([change]))
    assert "New-secret-2027" not in lines
    assert "secret=***" in lines
    assert plan_sync(rotated, _apply(state, [change])) == []


def test_an_entry_without_a_check_gets_the_secret_once() -> None:
    state = synced()
    state["/radius"][0]["comment"] = "easyisp:radius"  # written by an older onboarding script
    (change,) = radius_changes(plan_sync(DESIRED, state))
    assert change.params == {"secret": SECRET, "comment": radius_comment(SECRET, KEY)}
    assert "not yet confirmed" in change.reason
    assert plan_sync(DESIRED, _apply(state, [change])) == []


def test_resend_writes_the_secret_even_when_the_check_matches() -> None:
    state = synced()
    (change,) = plan_sync(DESIRED, state, resend_secrets=True)
    assert (change.path, change.params) == ("/radius", {"secret": SECRET})
    assert change.reason == "radius: secret re-sent on request"
    assert plan_sync(DESIRED, _apply(state, [change])) == []


def test_the_entry_is_still_ours_and_not_duplicated_whatever_its_check() -> None:
    state = synced()
    state["/radius"][0]["comment"] = "easyisp:radius secret-check=000000000000"
    changes = radius_changes(plan_sync(DESIRED, state))
    assert [c.action for c in changes] == ["set"]


def test_pppoe_servers_are_kept_to_what_our_radius_checks() -> None:
    state = synced()
    state["/interface/pppoe-server/server"] = [
        {".id": "*1", "service-name": "isp", "authentication": "pap,chap,mschap1,mschap2"},
        {".id": "*2", "service-name": "office", "authentication": "mschap2,pap,chap"},
    ]
    changes = plan_sync(DESIRED, state)
    assert [(c.path, c.item_id, c.params) for c in changes] == [
        ("/interface/pppoe-server/server", "*1", {"authentication": "pap,chap,mschap2"}),
    ]
    assert plan_sync(DESIRED, _apply(state, changes)) == []


def test_the_onboarding_script_writes_the_comment_sync_expects() -> None:
    from easyisp_core.onboarding.script import render_script
    from radius_service.routers.desired_state import desired_items
    from tests.unit.test_onboarding_script import ROUTER_V6, ROUTER_V7, SITE

    for router in (ROUTER_V7, ROUTER_V6):
        desired = dataclasses.replace(
            DESIRED, radius_secret=router.radius_secret, secret_check_key=router.api_password
        )
        (radius,) = [item for item in desired_items(desired) if item.path == "/radius"]
        assert f'comment="{radius.comment}"' in render_script(router, SITE)
