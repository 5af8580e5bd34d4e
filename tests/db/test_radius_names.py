"""RADIUS lookups by a name no account can have (the server fuzz test found a NUL byte)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.services.radius_auth import find_subscriber, find_voucher
from tests.factories import make_customer, make_tenant


def test_a_name_with_a_nul_byte_finds_nobody_instead_of_failing(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    customer = make_customer(session, secret_box, tenant)
    assert find_subscriber(session, tenant.id, customer.username) is not None
    # PostgreSQL text cannot hold NUL: the query itself would fail ("could not be decided").
    assert find_subscriber(session, tenant.id, customer.username + "\x00") is None
    assert find_voucher(session, tenant.id, "VC-\x0012345678") is None
