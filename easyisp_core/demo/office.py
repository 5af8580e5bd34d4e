"""Back-office demo rows: invoices, vouchers in batches, the chart of accounts, expenses.

Pure like the generator: everything comes from the tenant's Dice, in call order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from easyisp_core.demo.catalog import CHART_OF_ACCOUNTS, EXPENSES, PlanSpec
from easyisp_core.demo.dice import Dice
from easyisp_core.demo.names import PHONE_OUIS
from easyisp_core.demo.rows import (
    AccountRow,
    ExpenseRow,
    InvoiceRow,
    PlanRef,
    TenantContext,
    VoucherBatchRow,
    VoucherRow,
)
from easyisp_core.models.enums import CustomerStatus, InvoiceStatus, StaffRole, VoucherStatus
from easyisp_core.rules.identifiers import VOUCHER_ALPHABET, invoice_number
from easyisp_core.rules.validity import validity_seconds_estimate

# Kenya keeps East Africa Time all year, so a fixed offset is exact.
EAT = timezone(timedelta(hours=3))
VAT_RATE = Decimal("0.16")
CENT = Decimal("0.01")
STATIC_IP_FEE = Decimal("500.00")
INSTALLATION_FEE = Decimal("3500.00")
FIRST_BATCH_SIZE = 50
VOUCHER_BATCH_SIZES = (50, 100, 100, 200, 500)
# A printed voucher can be redeemed for this long.
VOUCHER_SHELF_LIFE = timedelta(days=90)


@dataclass(frozen=True)
class Billable:
    """A customer billed by invoice (businesses, some home users), noted during generation."""

    customer_id: str
    plan: PlanSpec
    status: str
    created_at: datetime
    months: int
    business: bool


def _month_start(now: datetime, months_back: int) -> datetime:
    local = now.astimezone(EAT)
    index = local.year * 12 + local.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, 8, 0, tzinfo=EAT)


def months_billed(now: datetime, created_at: datetime, wanted: int) -> int:
    """How many of the last `wanted` monthly invoices a customer created then can have."""
    months = 1
    while months < wanted and _month_start(now, months) >= created_at:
        months += 1
    return months


def _staff(ctx: TenantContext, *roles: StaffRole) -> tuple[str, ...]:
    return tuple(uid for role in roles for uid in ctx.staff.get(role, ()))


def invoice_rows(
    ctx: TenantContext, dice: Dice, billable: list[Billable], first_number: int
) -> list[InvoiceRow]:
    """Monthly invoices (16% VAT on top), newest month first for each billed customer."""
    rows: list[InvoiceRow] = []
    number = first_number
    now = ctx.now
    for b in billable:
        for months_back in range(b.months):
            issued = max(_month_start(now, months_back), b.created_at)
            # Businesses get 30 days to pay, homes two weeks.
            due = (issued + timedelta(days=30 if b.business else 14)).date()
            price = Decimal(b.plan.price).quantize(CENT)
            items = [
                {
                    "description": f"{b.plan.name} - {issued:%B %Y}",
                    "quantity": "1",
                    "unit_price": str(price),
                }
            ]
            if b.business and b.plan.business:
                items.append(
                    {"description": "Static IP address", "quantity": "1",
                     "unit_price": str(STATIC_IP_FEE)}
                )  # fmt: skip
            if months_back == b.months - 1 and dice.random() < 0.2:
                items.append(
                    {"description": "Installation and router", "quantity": "1",
                     "unit_price": str(INSTALLATION_FEE)}
                )  # fmt: skip
            subtotal = sum((Decimal(i["unit_price"]) for i in items), Decimal("0.00"))
            tax = (subtotal * VAT_RATE).quantize(CENT)
            status, paid_at = _invoice_status(dice, now, issued, due, months_back, b.status)
            rows.append(
                InvoiceRow(
                    dice.uuid(), ctx.tenant_id, invoice_number(issued.year, number),
                    b.customer_id, json.dumps(items), subtotal, tax, subtotal + tax, status,
                    issued, due, paid_at, issued, paid_at or issued,
                )
            )  # fmt: skip
            number += 1
    return rows


def _invoice_status(
    dice: Dice, now: datetime, issued: datetime, due: date, months_back: int, customer: str
) -> tuple[str, datetime | None]:
    paying = customer == CustomerStatus.ACTIVE.value
    if months_back == 0 and due >= now.astimezone(EAT).date():
        return InvoiceStatus.PENDING.value, None
    r = dice.random()
    if (months_back == 0 and not paying) or r < 0.05:
        return InvoiceStatus.OVERDUE.value, None
    if r < 0.09:
        return InvoiceStatus.CANCELLED.value, None
    paid = min(now, issued + timedelta(days=dice.uniform(0, 10)))
    return InvoiceStatus.PAID.value, paid


def voucher_rows(
    ctx: TenantContext, dice: Dice, plans: list[PlanRef], count: int
) -> tuple[list[VoucherBatchRow], list[VoucherRow], list[str]]:
    """Printed batches over the last four months; older ones are mostly sold and used."""
    if not plans:
        return [], [], []
    batches: list[VoucherBatchRow] = []
    vouchers: list[VoucherRow] = []
    codes: set[str] = set()
    creators = _staff(ctx, StaffRole.ADMIN, StaffRole.STAFF) or (None,)
    prefix = ctx.tenant.code
    now = ctx.now
    # Sizes first, then dates spread over 120 days, oldest batch first.
    # One small batch per plan first, so every plan has vouchers to show.
    sizes: list[int] = []
    while sum(sizes) < count:
        wanted = FIRST_BATCH_SIZE if len(sizes) < len(plans) else dice.choice(VOUCHER_BATCH_SIZES)
        sizes.append(min(wanted, count - sum(sizes)))
    ages = sorted((dice.uniform(0, 120) for _ in sizes), reverse=True)
    # The newest batch was printed this week, so there are unsold vouchers to try.
    ages[-1] = min(ages[-1], dice.uniform(0, 3))
    for n, (size, age_days) in enumerate(zip(sizes, ages, strict=True), start=1):
        plan = plans[n % len(plans)] if n <= len(plans) else dice.choice(plans)
        created = now - timedelta(days=age_days)
        batch_id = dice.uuid()
        batches.append(
            VoucherBatchRow(
                batch_id, ctx.tenant_id, f"{plan.spec.name} {created:%d %b %Y} #{n}", plan.id,
                size, prefix, dice.choice(creators), created, created,
            )
        )  # fmt: skip
        valid_until = created + VOUCHER_SHELF_LIFE
        validity = timedelta(
            seconds=validity_seconds_estimate(plan.spec.validity_value, plan.spec.validity_unit)
        )
        used_share = min(0.95, age_days / 30)
        for _ in range(size):
            code = _unique_code(dice, codes, prefix)
            used_at = used_by = expires = None
            if dice.random() < used_share:
                status = VoucherStatus.USED.value
                used_at = created + timedelta(days=dice.uniform(0, min(age_days, 90)))
                used_by = dice.mac(dice.choice(PHONE_OUIS))
                expires = used_at + validity
            elif valid_until < now:
                status = VoucherStatus.EXPIRED.value
            else:
                status = VoucherStatus.AVAILABLE.value
            vouchers.append(
                VoucherRow(
                    dice.uuid(), ctx.tenant_id, code, plan.id, batch_id, status, plan.spec.price,
                    valid_until, used_at, used_by, expires, created, used_at or created,
                )
            )  # fmt: skip
    available = [v.code for v in reversed(vouchers) if v.status == VoucherStatus.AVAILABLE.value]
    return batches, vouchers, available[:3]


def _unique_code(dice: Dice, taken: set[str], prefix: str) -> str:
    while True:
        code = prefix + "".join(dice.choices(VOUCHER_ALPHABET, k=8))
        if code not in taken:
            taken.add(code)
            return code


def account_rows(ctx: TenantContext, dice: Dice) -> list[AccountRow]:
    ids = {spec.code: dice.uuid() for spec in CHART_OF_ACCOUNTS}
    return [
        AccountRow(
            ids[spec.code], ctx.tenant_id, spec.code, spec.name, spec.type.value,
            ids[spec.parent] if spec.parent else None, None,
        )
        for spec in CHART_OF_ACCOUNTS
    ]  # fmt: skip


def expense_rows(
    ctx: TenantContext, dice: Dice, accounts: list[AccountRow], customers: int
) -> list[ExpenseRow]:
    """Twelve months of running costs, scaled to the number of customers."""
    account_ids = {a.code: a.id for a in accounts}
    recorders = _staff(ctx, StaffRole.ADMIN, StaffRole.STAFF) or (None,)
    today = ctx.now.astimezone(EAT).date()
    rows: list[ExpenseRow] = []
    for months_back in range(12):
        month = _month_start(ctx.now, months_back).date()
        for spec in EXPENSES:
            if spec.recurrence == "QUARTERLY" and months_back % 3:
                continue
            if spec.recurrence == "YEARLY" and months_back:
                continue
            entries = 1 if spec.recurrence else spec.per_month
            for _ in range(entries):
                day = month + timedelta(days=dice.randrange(0, 5 if spec.recurrence else 28))
                if day > today:
                    continue
                monthly = spec.base + spec.per_customer * customers
                amount = max(100, round(monthly * dice.uniform(0.9, 1.1) / entries, -1))
                recorded = datetime(day.year, day.month, day.day, 10, 0, tzinfo=EAT)
                rows.append(
                    ExpenseRow(
                        dice.uuid(), ctx.tenant_id, spec.category, spec.description,
                        int(amount), day, spec.recurrence is not None, spec.recurrence,
                        spec.vendor, f"INV-{dice.randrange(10_000, 100_000)}",
                        account_ids.get(spec.account), dice.choice(recorders), recorded,
                        recorded,
                    )
                )  # fmt: skip
    return rows
