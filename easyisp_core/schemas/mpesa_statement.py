"""The M-Pesa organisation portal statement (CSV export), read into typed lines.

Assumed layout (the portal's "Org statement" export): optional title lines, then a header
row with at least these columns, in any order:

    Receipt No., Completion Time, Initiation Time, Details, Transaction Status,
    Paid In, Withdrawn, Balance, Balance Confirmed, Reason Type, Other Party Info,
    Linked Transaction ID, A/C No.

Only "Receipt No.", "Completion Time", "Transaction Status" and "Paid In" are required.
Times are Kenya time, "YYYY-MM-DD HH:MM:SS" or "DD-MM-YYYY HH:MM:SS"; amounts may carry
thousands separators ("1,500.00"). A line counts as money received when its status is
Completed and Paid In is positive."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from easyisp_core.errors import ValidationFailed
from easyisp_core.schemas.mpesa import EAT

REQUIRED = ("Receipt No.", "Completion Time", "Transaction Status", "Paid In")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class StatementLine:
    receipt: str
    completed_at: datetime
    paid_in: Decimal
    details: str
    account: str
    other_party: str
    line_number: int


def _amount(raw: str, line: int) -> Decimal:
    text = raw.strip().replace(",", "")
    if not text:
        return Decimal(0)
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationFailed({f"line {line}": f"not an amount: {raw!r}"}) from exc


def _time(raw: str, line: int) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), fmt).replace(tzinfo=EAT)
        except ValueError:
            continue
    raise ValidationFailed({f"line {line}": f"not a time: {raw!r}"})


def parse_statement(text: str) -> list[StatementLine]:
    """Money received in the statement; ValidationFailed naming the line when unreadable."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header_at = next(
        (i for i, row in enumerate(rows) if row and row[0].strip() == "Receipt No."), None
    )
    if header_at is None:
        raise ValidationFailed({"file": "no header row starting with 'Receipt No.'"})
    header = [cell.strip() for cell in rows[header_at]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed({"file": f"missing columns: {', '.join(missing)}"})
    col = {name: header.index(name) for name in header}
    lines: list[StatementLine] = []
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not row or not row[0].strip():
            continue

        def cell(name: str, row: list[str] = row) -> str:
            index = col.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        paid_in = _amount(cell("Paid In"), number)
        if cell("Transaction Status").lower() != "completed" or paid_in <= 0:
            continue
        lines.append(
            StatementLine(
                receipt=cell("Receipt No.").upper(),
                completed_at=_time(cell("Completion Time"), number),
                paid_in=paid_in,
                details=cell("Details"),
                account=cell("A/C No."),
                other_party=cell("Other Party Info"),
                line_number=number,
            )
        )
    return lines
