"""The console's side of the service command queue, on the rolled-back test database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.services.service_commands import (
    commands_for_customer,
    get_command,
    queue_command,
)
from tests.factories import make_customer, make_nas, make_tenant


def test_a_queued_command_is_read_back_and_listed_for_its_customer(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = make_tenant(session)
    nas = make_nas(session, secret_box, tenant)
    customer = make_customer(session, secret_box, tenant)
    queued = queue_command(
        session, kind="DISCONNECT", customer_id=customer.id, nas_id=nas.id,
        payload={"username": customer.username},
    )  # fmt: skip
    assert (queued.kind, queued.status, queued.tenant_id) == ("DISCONNECT", "QUEUED", tenant.id)
    assert not queued.finished
    assert get_command(session, queued.id) == queued
    second = queue_command(session, kind="DISCONNECT", customer_id=customer.id)
    assert [c.id for c in commands_for_customer(session, customer.id)] == [second.id, queued.id]


def test_bad_commands_are_refused_before_the_database(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        queue_command(session, kind="REBOOT_THE_WORLD", nas_id=None)
    with pytest.raises(ValidationFailed):
        queue_command(session, kind="DISCONNECT")
    with pytest.raises(NotFound):
        get_command(session, 987654321)
