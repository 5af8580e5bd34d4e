"""Wallet credits, renewals, upkeep and reconciliation against the real database (rolled
back after each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import NotFound, ValidationFailed
from easyisp_core.models import Customer, Payment, WalletTransaction
from easyisp_core.models.enums import WalletEntryKind
from easyisp_core.repositories.payments import WalletRepository
from easyisp_core.schemas.mpesa_statement import parse_statement
from easyisp_core.services.mpesa_credit import credit_receipt
from easyisp_core.services.mpesa_reconciliation import credit_missing, reconcile
from easyisp_core.services.mpesa_upkeep import renew_due
from easyisp_core.services.results import CustomerInfo, TenantInfo
from tests.factories import make_customer, make_package, make_tenant

STATEMENT = Path(__file__).resolve().parents[1] / "data" / "mpesa" / "org_statement.csv"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _customer(session: Session, box: SecretBox) -> tuple[TenantInfo, CustomerInfo]:
    tenant = make_tenant(session)
    package = make_package(session, tenant, price=Decimal("1500.00"))
    return tenant, make_customer(session, box, tenant, package=package.name)


def _purchases(session: Session, customer: CustomerInfo) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(WalletTransaction)
            .where(
                WalletTransaction.customer_id == customer.id,
                WalletTransaction.kind == WalletEntryKind.PACKAGE_PURCHASE,
            )
        )
        or 0
    )


def _expiry(session: Session, customer: CustomerInfo) -> datetime | None:
    return session.scalar(select(Customer.expires_at).where(Customer.id == customer.id))


def test_partial_payments_add_up_and_renew_once_the_wallet_covers_the_package(
    session: Session, secret_box: SecretBox
) -> None:
    _tenant, customer = _customer(session, secret_box)
    first = credit_receipt(
        session,
        customer_id=customer.id,
        amount=Decimal("1000"),
        receipt="PART000001",
        note="x",
        now=NOW,
    )
    assert first.renewed_until is None
    second = credit_receipt(
        session,
        customer_id=customer.id,
        amount=Decimal("600"),
        receipt="PART000002",
        note="x",
        now=NOW,
    )
    assert second.renewed_until is not None
    assert _purchases(session, customer) == 1
    balance = session.scalar(select(Customer.wallet_balance).where(Customer.id == customer.id))
    assert balance == Decimal("100.00")


def test_a_receipt_renews_never_twice_whichever_route_repeats_it(
    session: Session, secret_box: SecretBox
) -> None:
    _tenant, customer = _customer(session, secret_box)
    results = [
        credit_receipt(
            session,
            customer_id=customer.id,
            amount=Decimal("3000"),
            receipt="TWICE00001",
            note="x",
            now=NOW,
        )
        for _ in range(3)
    ]
    assert [r.new for r in results] == [True, False, False]
    assert len({r.payment_id for r in results}) == 1
    # 3000 covers two months, but one payment buys one renewal; auto-renew uses the rest later.
    assert _purchases(session, customer) == 1


def test_renewal_extends_from_the_later_of_now_and_the_current_expiry(
    session: Session, secret_box: SecretBox
) -> None:
    _tenant, customer = _customer(session, secret_box)
    ahead = NOW + timedelta(days=10)
    session.execute(update(Customer).where(Customer.id == customer.id).values(expires_at=ahead))
    credit = credit_receipt(
        session,
        customer_id=customer.id,
        amount=Decimal("1500"),
        receipt="AHEAD00001",
        note="x",
        now=NOW,
    )
    assert credit.renewed_until is not None
    assert credit.renewed_until - ahead >= timedelta(days=28)


def test_auto_renew_at_expiry_happens_once_and_only_when_the_wallet_covers_it(
    session: Session, secret_box: SecretBox
) -> None:
    tenant, rich = _customer(session, secret_box)
    package = make_package(session, tenant, price=Decimal("1000.00"))
    poor = make_customer(session, secret_box, tenant, package=package.name)
    wallets = WalletRepository(session)
    # Money already in the wallet (an adjustment buys nothing by itself).
    wallets.adjust(rich.id, Decimal("1500"), "opening balance")
    wallets.adjust(poor.id, Decimal("999"), "opening balance")
    lapsed = NOW - timedelta(minutes=1)
    session.execute(
        update(Customer).where(Customer.id.in_([rich.id, poor.id])).values(expires_at=lapsed)
    )
    renewed = renew_due(session, NOW)
    again = renew_due(session, NOW)
    assert [r.customer_id for r in renewed if r.customer_id in (rich.id, poor.id)] == [rich.id]
    assert [r for r in again if r.customer_id in (rich.id, poor.id)] == []
    assert _purchases(session, rich) == 1
    assert _purchases(session, poor) == 0
    assert (_expiry(session, rich) or NOW) > NOW + timedelta(days=27)


def test_reconciliation_lists_matched_missing_and_unlisted_receipts(
    session: Session, secret_box: SecretBox
) -> None:
    tenant, customer = _customer(session, secret_box)
    lines = parse_statement(STATEMENT.read_text(encoding="utf-8"))
    assert [(line.receipt, line.paid_in) for line in lines] == [
        ("TKR1AAAAA1", Decimal("1500.00")),
        ("TKR1AAAAA2", Decimal("50.00")),
        ("TKR1AAAAA3", Decimal("200.00")),
    ]
    ours = [("TKR1AAAAA1", "1500"), ("TKR1AAAAA2", "60"), ("OURSONLY01", "300")]
    for receipt, amount in ours:
        credit_receipt(
            session,
            customer_id=customer.id,
            amount=Decimal(amount),
            receipt=receipt,
            note="x",
            now=NOW,
        )
    # Our own payment inside the statement's period that the statement does not list.
    session.execute(
        update(Payment)
        .where(Payment.transaction_id == "OURSONLY01")
        .values(paid_at=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    )
    result = reconcile(session, tenant.id, lines)
    assert [line.receipt for line in result.matched] == ["TKR1AAAAA1"]
    assert [(line.receipt, ours) for line, ours in result.amount_differs] == [
        ("TKR1AAAAA2", Decimal("60.00"))
    ]
    assert [line.receipt for line in result.missing_in_ours] == ["TKR1AAAAA3"]
    assert [p.receipt for p in result.missing_in_statement] == ["OURSONLY01"]

    missing = result.missing_in_ours[0]
    with pytest.raises(NotFound):
        credit_missing(session, tenant.id, missing, NOW)  # A/C No. ACCOUNT2 names nobody
    credit = credit_missing(session, tenant.id, missing, NOW, customer_id=customer.id)
    assert credit.new
    assert not credit_missing(session, tenant.id, missing, NOW, customer_id=customer.id).new
    assert reconcile(session, tenant.id, lines).missing_in_ours == []


def test_a_statement_without_the_expected_columns_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="missing columns"):
        parse_statement("Receipt No.,Completion Time\nX,2026-11-25 10:00:00\n")
    with pytest.raises(ValidationFailed):
        parse_statement("no header here\n")


def test_requeues_nothing_for_a_customer_who_is_offline(
    session: Session, secret_box: SecretBox
) -> None:
    _tenant, customer = _customer(session, secret_box)
    credit = credit_receipt(
        session,
        customer_id=customer.id,
        amount=Decimal("1500"),
        receipt="OFFLINE001",
        note="x",
        now=NOW,
    )
    assert credit.renewed_until is not None
    assert credit.reauthorise_command is None
    assert session.scalar(text("SELECT count(*) FROM service_commands")) == 0
