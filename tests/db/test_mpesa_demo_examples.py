"""The screenshots' M-Pesa examples: suspense entries once, and a statement that parses and
reconciles against the demo tenant's own payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.demo.mpesa_examples import add_suspense_examples, example_statement
from easyisp_core.schemas.mpesa_statement import parse_statement
from easyisp_core.services.mpesa_reconciliation import reconcile
from easyisp_core.services.mpesa_suspense import open_suspense
from easyisp_core.services.payments import record_payment
from easyisp_core.services.tenants import create_tenant
from tests.factories import make_customer


def test_examples_fill_suspense_once_and_the_statement_reconciles(
    session: Session, secret_box: SecretBox
) -> None:
    tenant = create_tenant(session, {"name": "demo-mpesa", "display_name": "Demo"})
    payer = make_customer(session, secret_box, tenant)
    for n in range(5):
        record_payment(
            session,
            {"tenant": tenant.name, "customer": payer.username, "amount": f"{100 + n}.00",
             "method": "MPESA", "transaction_id": f"TKDEMO{n:04d}"},
        )  # fmt: skip
    now = datetime.now(UTC) + timedelta(minutes=1)
    assert add_suspense_examples(session, tenant.name, now) == 4
    assert add_suspense_examples(session, tenant.name, now) == 0
    assert len(open_suspense(session, tenant.id)) == 4

    lines = parse_statement(example_statement(session, tenant.name, now))
    result = reconcile(session, tenant.id, lines)
    assert len(result.matched) == 4
    assert [line.receipt for line in result.missing_in_ours] == ["TKR9UC1R5E", "TKR9VD3S6F"]
    assert len(result.missing_in_statement) == 1
