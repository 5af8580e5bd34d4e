"""What M-Pesa processing reads and writes besides the raw store: pending STK requests,
receipts, customers by account, the suspense list, renewals due and re-authorisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from easyisp_core.models import (
    Customer,
    MpesaSuspense,
    Package,
    Payment,
    PendingHotspotPayment,
)
from easyisp_core.models.enums import (
    HotspotPaymentStatus,
    PaymentMethod,
    PaymentStatus,
    SuspenseStatus,
)


@dataclass(frozen=True)
class WalletState:
    balance: Decimal
    package_price: Decimal | None
    expires_at: datetime | None


class PendingPaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_by_checkout(self, checkout_request_id: str) -> PendingHotspotPayment | None:
        return self.session.scalar(
            select(PendingHotspotPayment)
            .where(PendingHotspotPayment.checkout_request_id == checkout_request_id)
            .with_for_update()
        )

    def mark(
        self,
        pending_id: uuid.UUID,
        status: HotspotPaymentStatus,
        result_code: int | None,
        description: str | None,
        payment_id: uuid.UUID | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "result_code": result_code,
            "result_description": description[:300] if description else None,
        }
        if payment_id is not None:
            values["payment_id"] = payment_id
        self.session.execute(
            update(PendingHotspotPayment)
            .where(PendingHotspotPayment.id == pending_id)
            .values(**values)
        )

    def expire_due(self, now: datetime) -> int:
        result = self.session.execute(
            update(PendingHotspotPayment)
            .where(
                PendingHotspotPayment.status == HotspotPaymentStatus.PENDING,
                PendingHotspotPayment.expires_at <= now,
            )
            .values(status=HotspotPaymentStatus.EXPIRED, result_description="expired unpaid")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def purge_dead(self, expired_before: datetime, limit: int) -> int:
        """Delete up to `limit` pushes that were never paid (EXPIRED or FAILED) and expired
        before `expired_before`. COMPLETED rows stay: they tie a phone to its customer."""
        doomed = (
            select(PendingHotspotPayment.id)
            .where(
                PendingHotspotPayment.status.in_(
                    [HotspotPaymentStatus.EXPIRED, HotspotPaymentStatus.FAILED]
                ),
                PendingHotspotPayment.expires_at < expired_before,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = self.session.execute(
            delete(PendingHotspotPayment).where(PendingHotspotPayment.id.in_(doomed))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class ReceiptRepository:
    """M-Pesa receipts are payments' transaction ids: one credit per receipt, ever."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, receipt: str) -> None:
        """Serialise the routes that may report one receipt (STK, C2B, staff, reconciliation)
        until this transaction ends, so the second one finds the first one's payment."""
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:r, 7))"), {"r": receipt}
        )

    def payment_id(self, receipt: str) -> uuid.UUID | None:
        return self.session.scalar(select(Payment.id).where(Payment.transaction_id == receipt))

    def adopt_query_settled(
        self, customer_id: uuid.UUID, amount: Decimal, receipt: str, since: datetime
    ) -> uuid.UUID | None:
        """Give the oldest recent payment of this customer and amount that an STK Push
        Query settled (transaction id = the CheckoutRequestID, "WS_CO_…") its real receipt."""
        candidate = (
            select(Payment.id)
            .where(
                Payment.customer_id == customer_id,
                Payment.amount == amount,
                Payment.method == PaymentMethod.MPESA,
                Payment.status == PaymentStatus.COMPLETED,
                Payment.transaction_id.like("WS\\_CO\\_%"),
                Payment.paid_at >= since,
            )
            .order_by(Payment.paid_at)
            .limit(1)
            .with_for_update()
            .scalar_subquery()
        )
        return self.session.scalar(
            update(Payment)
            .where(Payment.id == candidate)
            .values(transaction_id=receipt)
            .returning(Payment.id)
        )

    def completed_mpesa(
        self, tenant_id: uuid.UUID, since: datetime, until: datetime
    ) -> list[tuple[str, Decimal, datetime | None]]:
        rows = self.session.execute(
            select(Payment.transaction_id, Payment.amount, Payment.paid_at).where(
                Payment.tenant_id == tenant_id,
                Payment.method == PaymentMethod.MPESA,
                Payment.status == PaymentStatus.COMPLETED,
                Payment.paid_at >= since,
                Payment.paid_at <= until,
                Payment.transaction_id.is_not(None),
            )
        )
        return [(str(r[0]), Decimal(r[1]), r[2]) for r in rows]

    def amounts_by_receipt(self, tenant_id: uuid.UUID, receipts: list[str]) -> dict[str, Decimal]:
        rows = self.session.execute(
            select(Payment.transaction_id, Payment.amount).where(
                Payment.tenant_id == tenant_id, Payment.transaction_id.in_(receipts)
            )
        )
        return {str(r[0]): Decimal(r[1]) for r in rows}


class WalletCustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find_by_account(self, tenant_id: uuid.UUID, account: str) -> uuid.UUID | None:
        """Username or account number, case-insensitive; `account` is already normalised
        (lower case, no spaces). Usernames and account numbers never contain spaces."""
        return self.session.scalar(
            select(Customer.id)
            .where(
                Customer.tenant_id == tenant_id,
                (func.lower(Customer.username) == account)
                | (func.lower(Customer.account_number) == account),
            )
            .limit(1)
        )

    def lock(self, customer_id: uuid.UUID) -> None:
        """Take the customer's row lock before the payment's foreign keys take a weaker one:
        two credits for one customer then queue instead of deadlocking on the upgrade."""
        self.session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()
        )

    def tenant_of(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        return self.session.scalar(select(Customer.tenant_id).where(Customer.id == customer_id))

    def wallet(self, customer_id: uuid.UUID) -> WalletState:
        row = self.session.execute(
            select(Customer.wallet_balance, Package.price, Customer.expires_at)
            .outerjoin(Package, Package.id == Customer.package_id)
            .where(Customer.id == customer_id)
        ).one()
        return WalletState(Decimal(row[0]), None if row[1] is None else Decimal(row[1]), row[2])

    def set_package(self, customer_id: uuid.UUID, package_id: uuid.UUID) -> None:
        self.session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.package_id.is_distinct_from(package_id))
            .values(package_id=package_id)
        )

    def lock_due_for_renewal(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Expired customers whose wallet covers their package, locked; rows another
        renewal holds are skipped (it will extend them past now)."""
        return list(
            self.session.scalars(
                select(Customer.id)
                .join(Package, Package.id == Customer.package_id)
                .where(
                    Customer.expires_at <= now,
                    Customer.wallet_balance >= Package.price,
                    Package.price > 0,
                    Customer.status != "SUSPENDED",
                )
                .order_by(Customer.expires_at)
                .limit(limit)
                .with_for_update(of=Customer, skip_locked=True)
            )
        )


class SuspenseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, values: dict[str, Any]) -> uuid.UUID | None:
        """None when the receipt is already in suspense."""
        return self.session.execute(
            insert(MpesaSuspense)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["receipt"])
            .returning(MpesaSuspense.id)
        ).scalar_one_or_none()

    def get(self, suspense_id: uuid.UUID) -> MpesaSuspense | None:
        return self.session.get(MpesaSuspense, suspense_id)

    def resolve(self, suspense_id: uuid.UUID, customer_id: uuid.UUID) -> uuid.UUID:
        """Assign to a customer: the database function records the payment and the credit."""
        value = self.session.execute(
            text("SELECT easyisp_resolve_suspense(:s, :c)"), {"s": suspense_id, "c": customer_id}
        ).scalar_one()
        return uuid.UUID(str(value))

    def close_credited(
        self, receipt: str, customer_id: uuid.UUID, payment_id: uuid.UUID, at: datetime
    ) -> None:
        """Another route credited this receipt: the suspense entry is settled by it."""
        if self.open_by_receipt(receipt) is None:
            # Nothing to settle; a staff login (which may not update the table) gets here.
            return
        self.session.execute(
            update(MpesaSuspense)
            .where(MpesaSuspense.receipt == receipt, MpesaSuspense.status == SuspenseStatus.OPEN)
            .values(
                status=SuspenseStatus.RESOLVED,
                customer_id=customer_id,
                payment_id=payment_id,
                resolved_at=at,
            )
        )

    def open_by_receipt(self, receipt: str) -> uuid.UUID | None:
        return self.session.scalar(
            select(MpesaSuspense.id).where(
                MpesaSuspense.receipt == receipt, MpesaSuspense.status == SuspenseStatus.OPEN
            )
        )

    def open_entries(self, tenant_id: uuid.UUID, limit: int) -> list[MpesaSuspense]:
        return list(
            self.session.scalars(
                select(MpesaSuspense)
                .where(
                    MpesaSuspense.tenant_id == tenant_id,
                    MpesaSuspense.status == SuspenseStatus.OPEN,
                )
                .order_by(MpesaSuspense.created_at)
                .limit(limit)
            )
        )


class ReauthorisationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def queue_disconnect_if_online(self, customer_id: uuid.UUID, reason: str) -> int | None:
        """Queue a DISCONNECT for the customer's open session so the router logs them in
        again with the new limits; None when they are not online."""
        return self.session.execute(
            text(
                "INSERT INTO service_commands (tenant_id, kind, customer_id, nas_id, payload) "
                "SELECT s.tenant_id, 'DISCONNECT', s.customer_id, s.nas_id, "
                "       jsonb_build_object('reason', CAST(:reason AS text), "
                "                          'username', s.username, 'session_id', s.session_id) "
                "  FROM sessions s "
                " WHERE s.customer_id = :c AND s.stopped_at IS NULL "
                " ORDER BY s.started_at DESC LIMIT 1 "
                "RETURNING id"
            ),
            {"c": customer_id, "reason": reason},
        ).scalar_one_or_none()
