"""M-Pesa examples for the console's screenshots: paybill money waiting in suspense, and an
organisation statement (the portal's CSV) that mostly matches the demo's own payments."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from easyisp_core.repositories.mpesa_payments import ReceiptRepository, SuspenseRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.schemas.mpesa import EAT

# (receipt, amount, masked phone, account typed, payer)
_SUSPENSE = (
    ("TKP7QX2M1A", "1500.00", "2547****126", "ACC-0O12", "JANE WANJIRU"),
    ("TKP8RZ4N2B", "2500.00", "2547****903", "0712345678", "PETER OCHIENG"),
    ("TKQ1SA6P3C", "50.00", "2541****477", "", "MARY AKINYI"),
    ("TKQ3TB8Q4D", "999.00", "2547****350", "kibera 12", "JOSEPH MWANGI"),
)
_HEADER = [
    "Receipt No.", "Completion Time", "Initiation Time", "Details", "Transaction Status",
    "Paid In", "Withdrawn", "Balance", "Balance Confirmed", "Reason Type", "Other Party Info",
    "Linked Transaction ID", "A/C No.",
]  # fmt: skip


def add_suspense_examples(session: Session, tenant: str, now: datetime) -> int:
    """A few unmatched paybill payments for `tenant`; returns how many were new."""
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    entries = SuspenseRepository(session)
    added = 0
    for n, (receipt, amount, msisdn, account, payer) in enumerate(_SUSPENSE):
        new = entries.add(
            {
                "tenant_id": tenant_id,
                "receipt": receipt,
                "amount": Decimal(amount),
                "msisdn": msisdn,
                "account_reference": account or None,
                "payer_name": payer,
                "paid_at": now - timedelta(hours=5 * n + 1),
                "reason": "the account number names no customer",
            }
        )
        added += new is not None
    return added


def example_statement(session: Session, tenant: str, now: datetime) -> str:
    """The portal CSV for the last twelve hours: our M-Pesa payments (one left out, so the
    comparison has something to show) and two receipts we never recorded."""
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    ours = sorted(
        ReceiptRepository(session).completed_mpesa(tenant_id, now - timedelta(hours=12), now),
        key=lambda p: p[2] or now,
    )
    left_out = len(ours) // 2
    lines = [(r, a, t or now, "") for i, (r, a, t) in enumerate(ours) if i != left_out]
    lines += [
        ("TKR9UC1R5E", Decimal("1500.00"), now - timedelta(hours=7), "ACC-9999"),
        ("TKR9VD3S6F", Decimal("300.00"), now - timedelta(hours=2), "hotspot"),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Account Holder:", tenant])
    writer.writerow(_HEADER)
    for receipt, amount, at, account in sorted(lines, key=lambda line: line[2]):
        when = at.astimezone(EAT).strftime("%Y-%m-%d %H:%M:%S")
        party = "2547****000 - PAYBILL CUSTOMER"
        writer.writerow(
            [receipt, when, when, f"Pay Bill from {party} Acc. {account}", "Completed",
             f"{amount:,.2f}", "", "", "true", "Pay Bill Online", party, "", account]
        )  # fmt: skip
    return out.getvalue()
