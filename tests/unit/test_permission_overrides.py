"""The overrides the Staff page saves give a user exactly the permissions ticked."""

from __future__ import annotations

import pytest

from easyisp_core.models.enums import StaffRole
from easyisp_core.rules.permissions import (
    PERMISSIONS,
    ROLE_DEFAULTS,
    effective_permissions,
    overrides_for,
)


@pytest.mark.parametrize("role", list(StaffRole))
def test_the_role_defaults_need_no_overrides(role: StaffRole) -> None:
    assert overrides_for(role, ROLE_DEFAULTS[role]) == ([], [])


def test_a_ticked_extra_is_added_and_an_unticked_default_removed() -> None:
    wanted = (ROLE_DEFAULTS[StaffRole.STAFF] | {"customers.delete"}) - {"vouchers.write"}
    added, removed = overrides_for(StaffRole.STAFF, wanted)
    assert (added, removed) == (["customers.delete"], ["vouchers.write"])
    assert effective_permissions(StaffRole.STAFF, added, removed) == wanted


@pytest.mark.parametrize("role", list(StaffRole))
def test_any_choice_round_trips(role: StaffRole) -> None:
    wanted = frozenset(sorted(PERMISSIONS)[::3])
    assert effective_permissions(role, *overrides_for(role, wanted)) == wanted
