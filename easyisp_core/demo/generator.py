"""Customers and their activity (payments, wallet credits, sessions, SMS) as rows for COPY.

Pure: no database, no clock, no global random state. A TenantGenerator draws everything from
one seeded Dice in a fixed order, so the same seed and context give the same rows, ids
included; only the password ciphertexts differ, because `seal` uses a fresh nonce each time.
The per-customer path avoids pydantic and object churn: a million customers must generate in
well under a minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from easyisp_core.demo import office
from easyisp_core.demo.catalog import (
    CUSTOMER_NOTES,
    PlanSpec,
)
from easyisp_core.demo.dice import Dice, ReferenceCodes, Weighted
from easyisp_core.demo.names import (
    COMMUNITIES,
    EMAIL_DOMAINS,
    PHONE_OUIS,
    ROUTER_OUIS,
    SAFARICOM_PREFIXES,
    person,
)
from easyisp_core.demo.office import EAT
from easyisp_core.demo.rows import (
    AccountRow,
    CustomerBatch,
    CustomerRow,
    ExpenseRow,
    InvoiceRow,
    PaymentRow,
    SampleLogin,
    SmsRow,
    TenantContext,
    VoucherBatchRow,
    VoucherRow,
    WalletRow,
)
from easyisp_core.demo.sessions import SessionHistory
from easyisp_core.models.enums import (
    ConnectionType,
    CustomerStatus,
    PackageType,
    PaymentMethod,
    PaymentStatus,
    SmsStatus,
    StaffRole,
    WalletEntryKind,
)
from easyisp_core.rules.identifiers import account_number
from easyisp_core.rules.validity import validity_seconds_estimate

SealFn = Callable[[str], bytes]

PPPOE = ConnectionType.PPPOE.value
HOTSPOT = ConnectionType.HOTSPOT.value
DHCP = ConnectionType.DHCP.value
STATIC = ConnectionType.STATIC.value
ACTIVE = CustomerStatus.ACTIVE.value
EXPIRED = CustomerStatus.EXPIRED.value
SUSPENDED = CustomerStatus.SUSPENDED.value
TYPES = (PPPOE, HOTSPOT, DHCP, STATIC)
STATUSES = (ACTIVE, EXPIRED, SUSPENDED)
MPESA = PaymentMethod.MPESA.value
CASH = PaymentMethod.CASH.value
BANK = PaymentMethod.BANK.value
CARD = PaymentMethod.CARD.value
COMPLETED = PaymentStatus.COMPLETED.value
PENDING = PaymentStatus.PENDING.value
FAILED = PaymentStatus.FAILED.value
REFUNDED = PaymentStatus.REFUNDED.value
QUEUED = SmsStatus.QUEUED.value
DELIVERED = SmsStatus.DELIVERED.value
SMS_FAILED = SmsStatus.FAILED.value
DAY = 86_400.0
# Lower case without look-alikes: subscribers type these into a router's PPPoE settings.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet
_NOT_IN_USERNAMES = str.maketrans("", "", "'- ")
_SMS_COST = Decimal("0.8000")
_SMS_ERRORS = ("AbsentSubscriber", "UserInBlacklist", "DeliveryFailure")


@dataclass(frozen=True)
class _Plan:
    """A package with the numbers the per-row path needs, computed once."""

    id: str
    spec: PlanSpec
    price: int
    seconds: float
    down_bps: float  # bytes per second at the plan's download speed


class TenantGenerator:
    """All demo rows of one tenant, in the order the loader asks for them."""

    def __init__(self, ctx: TenantContext, seed: int, seal: SealFn) -> None:
        self.ctx = ctx
        # Each tenant's ids start an hour after the previous tenant's, so they never interleave.
        id_clock = ctx.now - timedelta(hours=24 - ctx.index)
        self.dice = d = Dice(f"easyisp-demo/{seed}/{ctx.index}", id_clock=id_clock)
        self._seal = seal
        self._refs = ReferenceCodes(ctx.index, seed)
        self._tid = ctx.tenant_id
        self._now = ctx.now
        self._community = Weighted(d, COMMUNITIES, ctx.tenant.region.community_weights)
        self._type = Weighted(d, TYPES, (58, 30, 7, 5))
        self._status = Weighted(d, STATUSES, (74, 19, 7))
        plans = [_plan(p.id, p.spec) for p in ctx.plans]
        hotspot = [p for p in plans if p.spec.type is PackageType.HOTSPOT]
        home = [p for p in plans if p.spec.type is PackageType.PPPOE and not p.spec.business]
        static = [p for p in plans if p.spec.type is PackageType.PPPOE]
        if not hotspot or not home:
            raise ValueError("the demo needs at least one hotspot and one home plan")
        self._hotspot_plan = Weighted(d, hotspot, [p.spec.weight for p in hotspot])
        self._home_plan = Weighted(d, home, [p.spec.weight for p in home])
        self._static_plan = Weighted(
            d, static, [p.spec.weight * (6 if p.spec.business else 1) for p in static]
        )
        self._method = Weighted(d, (MPESA, CASH, BANK, CARD), (86, 8, 4, 2))
        self._mpesa_status = Weighted(
            d, (COMPLETED, FAILED, PENDING, REFUNDED), (95, 2.5, 1.2, 1.3)
        )
        self._payment_count = Weighted(d, (0, 1, 2, 3, 4), (8, 25, 32, 20, 15))
        self._sms_status = Weighted(
            d, (QUEUED, SmsStatus.SENT.value, SMS_FAILED, DELIVERED), (2, 7, 5, 86)
        )
        self._sessions = SessionHistory(ctx, d)
        self._routers = ctx.routers
        if not self._routers:
            raise ValueError("the demo needs at least one router")
        staff = ctx.staff
        self._cashiers = (
            *staff.get(StaffRole.STAFF, ()),
            *staff.get(StaffRole.CUSTOMER_CARE, ()),
            *staff.get(StaffRole.ADMIN, ()),
        ) or (None,)
        self._admin = next(iter(staff.get(StaffRole.ADMIN, ())), None)
        self.paybill = str(d.randrange(400_000, 1_000_000))
        self._brand = ctx.tenant.display_name
        self._usernames: dict[str, int] = {}
        self._hotspot_usernames: set[str] = set()
        self._billable: list[office.Billable] = []
        self.samples: list[SampleLogin] = []
        self._samples_wanted = {PPPOE: 2, HOTSPOT: 1}
        self._customer_index = 0
        self._payment_index = 0
        self._static_index = 0

    # Customers ---------------------------------------------------------------------------

    def customer_batches(self, count: int, chunk_size: int) -> Iterator[CustomerBatch]:
        """Customers in chunks; each chunk also holds its payments, ledger, sessions, SMS."""
        done = 0
        while done < count:
            batch = CustomerBatch()
            for _ in range(min(chunk_size, count - done)):
                self._customer(batch)
            done += len(batch.customers)
            yield batch

    def _customer(self, batch: CustomerBatch) -> None:
        d, now = self.dice, self._now
        i = self._customer_index
        self._customer_index += 1
        # The first twelve cover every connection type x status, so even a tiny demo shows all.
        if i < 12:
            ctype, status = TYPES[i % 4], STATUSES[i // 4]
        else:
            ctype, status = self._type(), self._status()
        router = d.choice(self._routers)
        business = ctype == STATIC and d.random() < 0.6
        first, second, full_name = person(d, self._community(), business)
        if ctype == HOTSPOT:
            plan = self._hotspot_plan()
            login_phone = self._hotspot_phone()
            phone: str | None = login_phone
            username = "0" + login_phone[3:]
        else:
            plan = self._static_plan() if ctype == STATIC else self._home_plan()
            phone = self._phone() if d.random() < 0.97 else None
            username = self._username(first, second)
        cid = d.uuid()
        account = account_number(self.ctx.first_account_number + i)
        password_enc = None
        if ctype == PPPOE:
            password = "".join(d.choices(_PASSWORD_ALPHABET, k=8))
            password_enc = self._seal(password)
            if status == ACTIVE and self._samples_wanted[ctype]:
                self._samples_wanted[ctype] -= 1
                self.samples.append(SampleLogin(username, password, ctype, plan.spec.name))
        elif ctype == HOTSPOT and status == ACTIVE and self._samples_wanted[ctype]:
            self._samples_wanted[ctype] -= 1
            self.samples.append(SampleLogin(username, None, ctype, plan.spec.name))

        secs = plan.seconds
        if status == ACTIVE:
            expires = now + timedelta(seconds=max(600.0, secs * d.uniform(0.02, 1.0)))
        elif status == EXPIRED:
            ago = min(150 * DAY, max(3600.0, secs * d.uniform(0.1, 3.0)))
            expires = now - timedelta(seconds=ago)
        else:
            # Suspended around the time the plan ran out, for non-payment or abuse.
            expires = now + timedelta(seconds=max(-30 * DAY, secs * d.uniform(-1.5, 0.8)))
        created = now - timedelta(days=d.uniform(10, 1100))
        mac = None
        if ctype == HOTSPOT:
            mac = d.mac(d.choice(PHONE_OUIS))
        elif ctype == DHCP:
            mac = d.mac(d.choice(ROUTER_OUIS))
        static_ip = self._static_ip() if ctype == STATIC else None

        email = id_number = address = None
        if ctype != HOTSPOT:
            if d.random() < 0.3:
                domain = d.choice(EMAIL_DOMAINS)
                email = f"{username.rstrip('0123456789')}{d.randrange(10, 100)}@{domain}"
            if not business and d.random() < 0.7:
                id_number = str(d.randrange(20_000_000, 40_000_000))
            address = self._address(router.estate, router.town)
        elif d.random() < 0.5:
            address = f"{router.estate}, {router.town}"
        notes = d.choice(CUSTOMER_NOTES) if d.random() < 0.04 else None

        earliest, latest = self._payments(batch, cid, phone, account, plan, ctype, expires)
        if earliest is not None and earliest < created:
            created = earliest - timedelta(hours=d.uniform(1, 72))
        if ctype == STATIC or (ctype != HOTSPOT and d.random() < 0.04):
            months = office.months_billed(now, created, 1 + d.randrange(3))
            self._billable.append(
                office.Billable(cid, plan.spec, status, created, months, business)
            )
        self._wallet(batch, cid, latest)
        self._sessions.add(
            batch.sessions, cid, username, ctype, status, plan.down_bps, router.id, created,
            expires, mac, static_ip,
        )  # fmt: skip
        if phone is not None and d.random() < 0.12:
            self._sms(batch, cid, phone, first, account, plan, status, created, expires, latest)
        batch.customers.append(
            CustomerRow(
                cid, self._tid, account, username, password_enc, full_name, phone, email,
                id_number, address, ctype, status, plan.id, expires, mac, static_ip, router.id,
                notes, created, latest.paid_at if latest and latest.paid_at else created,
            )
        )  # fmt: skip

    def _username(self, first: str, second: str) -> str:
        base = f"{first}.{second}".lower().translate(_NOT_IN_USERNAMES)
        n = self._usernames.get(base, 0) + 1
        self._usernames[base] = n
        return base if n == 1 else f"{base}{n}"

    def _phone(self) -> str:
        d = self.dice
        return f"254{d.choice(SAFARICOM_PREFIXES)}{d.randrange(1_000_000):06d}"

    def _hotspot_phone(self) -> str:
        # Hotspot users log in with their phone number, so it must be unique in the tenant.
        while True:
            phone = self._phone()
            if phone not in self._hotspot_usernames:
                self._hotspot_usernames.add(phone)
                return phone

    def _static_ip(self) -> str:
        k = self._static_index
        self._static_index += 1
        block, host = divmod(k, 250)
        return f"10.{100 + 4 * self.ctx.index + block // 256}.{block % 256}.{host + 2}"

    def _address(self, estate: str, town: str) -> str:
        d = self.dice
        n = d.randrange(1, 400)
        style = d.random()
        if style < 0.5:
            return f"House {n}, {estate}, {town}"
        if style < 0.8:
            return f"Apt {'ABCDEF'[n % 6]}{n % 30 + 1}, {estate}, {town}"
        return f"Plot {n}, {estate}, {town}"

    # Payments and the wallet -------------------------------------------------------------

    def _payments(
        self,
        batch: CustomerBatch,
        cid: str,
        phone: str | None,
        account: str,
        plan: _Plan,
        ctype: str,
        expires: datetime,
    ) -> tuple[datetime | None, PaymentRow | None]:
        """Renewals back in time from the current expiry; returns (earliest, latest paid)."""
        d, now = self.dice, self._now
        count = self._payment_count()
        if self._payment_index < 4:
            count = max(count, 1)
        hotspot = ctype == HOTSPOT
        secs = plan.seconds
        when = min(expires - timedelta(seconds=secs), now - timedelta(seconds=d.uniform(60, 3600)))
        payer = phone or self._phone()
        latest: PaymentRow | None = None
        for j in range(count):
            if j:
                gap = d.uniform(0.5, 10) * DAY if hotspot else secs + d.uniform(-2, 3) * DAY
                when -= timedelta(seconds=gap)
            k = self._payment_index
            self._payment_index += 1
            # The tenant's first four payments show every method, even in a tiny demo.
            if k < 4:
                method, status = (MPESA, CASH, BANK, CARD)[k], COMPLETED
            elif hotspot:
                method, status = MPESA, self._mpesa_status()
            else:
                method = self._method()
                status = self._mpesa_status() if method == MPESA else COMPLETED
            paid = status in (COMPLETED, REFUNDED)
            reference = None
            if method == MPESA:
                reference = self._refs.mpesa_receipt(when) if paid else None
                description = "M-Pesa paybill " + self.paybill
            elif method == CASH:
                description = "Cash at the office"
            elif method == BANK:
                reference = f"FT{when:%y%j}{self._refs.next()}"
                description = "Bank deposit"
            else:
                reference = "CRD" + self._refs.next()
                description = "Card payment"
            row = PaymentRow(
                d.uuid(), self._tid, cid, plan.price, method, status, reference, payer, account,
                description, plan.id, d.choice(self._cashiers) if method in (CASH, BANK) else None,
                when if paid else None, when, when,
            )  # fmt: skip
            batch.payments.append(row)
            if latest is None and status == COMPLETED:
                latest = row
        return (when if count else None), latest

    def _wallet(self, batch: CustomerBatch, cid: str, latest: PaymentRow | None) -> None:
        """Some customers keep a credit: their last payment went to the wallet, not a renewal.

        Only a fraction get ledger entries: each one fires the balance trigger (an UPDATE of the
        customer), which is the slowest row of the whole load."""
        d = self.dice
        if latest is not None and latest.paid_at is not None and d.random() < 0.15:
            ref = latest.transaction_id or "cash"
            batch.wallet.append(
                WalletRow(
                    self._tid, cid, latest.amount, WalletEntryKind.TOPUP.value, latest.id,
                    f"{latest.method} {ref} credited to wallet", None, latest.paid_at,
                )
            )  # fmt: skip
        if d.random() < 0.01:
            when = self._now - timedelta(days=d.uniform(1, 60))
            batch.wallet.append(
                WalletRow(
                    self._tid, cid, 100, WalletEntryKind.ADJUSTMENT.value, None,
                    "Goodwill credit after a network outage", self._admin, when,
                )
            )  # fmt: skip

    # Sessions and SMS --------------------------------------------------------------------

    def _sms(
        self,
        batch: CustomerBatch,
        cid: str,
        phone: str,
        first: str,
        account: str,
        plan: _Plan,
        status: str,
        created: datetime,
        expires: datetime,
        latest: PaymentRow | None,
    ) -> None:
        d, now = self.dice, self._now
        name = plan.spec.name
        if latest is not None and latest.paid_at is not None and d.random() < 0.6:
            sent = latest.paid_at + timedelta(seconds=d.uniform(2, 20))
            text = (
                f"Dear {first}, we have received KES {latest.amount:,}. Acc {account}. "
                f"Your {name} is active until {expires.astimezone(EAT):%d/%m/%Y %H:%M}. "
                f"{self._brand}"
            )
        elif status == ACTIVE:
            sent = now - timedelta(days=d.uniform(0, 30))
            text = (
                f"Dear {first}, your {name} expires on {expires.astimezone(EAT):%d/%m/%Y}. Pay KES "
                f"{plan.price:,} to Paybill {self.paybill}, Acc {account}. {self._brand}"
            )
        else:
            sent = min(now, expires) - timedelta(days=d.uniform(0, 3))
            text = (
                f"Dear {first}, your {name} has expired. Renew via Paybill {self.paybill}, "
                f"Acc {account}, to reconnect. {self._brand}"
            )
        sent = max(sent, created)
        sms_status = self._sms_status()
        delivered = sent + timedelta(seconds=d.uniform(2, 40)) if sms_status == DELIVERED else None
        queued = sms_status == QUEUED
        batch.sms.append(
            SmsRow(
                sent, self._tid, cid, phone, text, sms_status, "AFRICASTALKING",
                None if queued else "ATXid_" + d.hex(32), None if queued else _SMS_COST,
                d.choice(_SMS_ERRORS) if sms_status == SMS_FAILED else None, delivered,
            )
        )  # fmt: skip

    # Back office: once the customers are done --------------------------------------------

    @property
    def invoice_count(self) -> int:
        """How many invoice numbers to reserve before calling invoices()."""
        return sum(b.months for b in self._billable)

    def invoices(self, first_number: int) -> list[InvoiceRow]:
        return office.invoice_rows(self.ctx, self.dice, self._billable, first_number)

    def vouchers(self, count: int) -> tuple[list[VoucherBatchRow], list[VoucherRow], list[str]]:
        """(batches, vouchers, a few unused codes to try)."""
        hotspot = [p for p in self.ctx.plans if p.spec.type is PackageType.HOTSPOT]
        return office.voucher_rows(self.ctx, self.dice, hotspot, count)

    def accounts(self) -> list[AccountRow]:
        return office.account_rows(self.ctx, self.dice)

    def expenses(self, accounts: list[AccountRow], customers: int) -> list[ExpenseRow]:
        return office.expense_rows(self.ctx, self.dice, accounts, customers)


def _plan(plan_id: str, spec: PlanSpec) -> _Plan:
    seconds = float(validity_seconds_estimate(spec.validity_value, spec.validity_unit))
    return _Plan(plan_id, spec, spec.price, seconds, float(spec.down) * 125_000)
