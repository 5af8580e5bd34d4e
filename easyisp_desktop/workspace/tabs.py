"""The workspace's history tabs: which columns each shows and how they read."""

from __future__ import annotations

from easyisp_core.services.customer_workspace import (
    AuditLine,
    InvoiceLine,
    LedgerEntry,
    PaymentLine,
    SessionLine,
)
from easyisp_core.services.mpesa_status import StatusQueryRow
from easyisp_core.services.service_commands import CommandStep, ServiceCommandInfo
from easyisp_desktop.workspace.formatting import byte_count, duration, kes, moment, step_time
from easyisp_desktop.workspace.history_model import HistoryColumn


def _ledger_balance(e: LedgerEntry) -> str:
    return kes(e.balance_after)


LEDGER = (
    HistoryColumn("When", lambda e: moment(e.created_at)),
    HistoryColumn("Kind", lambda e: e.kind.replace("_", " ").capitalize()),
    HistoryColumn("Amount", lambda e: kes(e.amount), right_aligned=True),
    HistoryColumn("Balance after", _ledger_balance, right_aligned=True),
    HistoryColumn("Description", lambda e: e.description or ""),
)

PAYMENTS = (
    HistoryColumn("When", lambda p: moment(p.paid_at or p.created_at)),
    HistoryColumn("Amount", lambda p: kes(p.amount), right_aligned=True),
    HistoryColumn("Method", lambda p: p.method),
    HistoryColumn("Status", lambda p: p.status.capitalize()),
    HistoryColumn("Reference", lambda p: p.transaction_id or ""),
    HistoryColumn("Note", lambda p: p.description or ""),
)

# Transaction Status questions about receipts this customer reported (console or portal).
MPESA_CHECKS = (
    HistoryColumn("Asked", lambda q: moment(q.created_at)),
    HistoryColumn("Receipt", lambda q: q.receipt),
    HistoryColumn("From", lambda q: q.origin.capitalize()),
    HistoryColumn("State", lambda q: q.state.replace("_", " ").capitalize()),
    HistoryColumn(
        "Amount", lambda q: "" if q.amount is None else kes(q.amount), right_aligned=True
    ),
    HistoryColumn("Answered", lambda q: moment(q.finished_at) if q.finished_at else ""),
    HistoryColumn("Result", lambda q: q.result or ""),
)

SESSIONS = (
    HistoryColumn("Started", lambda s: moment(s.started_at)),
    HistoryColumn("Stopped", lambda s: moment(s.stopped_at) if s.stopped_at else "online"),
    HistoryColumn("IP address", lambda s: s.framed_ip or ""),
    HistoryColumn("Bytes in", lambda s: byte_count(s.bytes_in), right_aligned=True),
    HistoryColumn("Bytes out", lambda s: byte_count(s.bytes_out), right_aligned=True),
    HistoryColumn("Duration", lambda s: duration(s.duration_seconds), right_aligned=True),
    HistoryColumn("Ended by", lambda s: s.terminate_cause or ""),
)

INVOICES = (
    HistoryColumn("Invoice", lambda i: i.invoice_no),
    HistoryColumn("Issued", lambda i: moment(i.issued_at)),
    HistoryColumn("Total", lambda i: kes(i.total), right_aligned=True),
    HistoryColumn("Status", lambda i: i.status.capitalize()),
    HistoryColumn("Due", lambda i: "" if i.due_date is None else str(i.due_date)),
)


def _steps_summary(c: ServiceCommandInfo) -> str:
    """The path the command took at a glance: sent → nak → sent → confirmed."""
    return " → ".join(step.step for step in c.steps)


def _step_line(step: CommandStep) -> str:
    return f"{step_time(step.at)}  #{step.attempt} {step.step}: {step.detail}"


def _steps_detail(c: ServiceCommandInfo) -> str:
    return "\n".join(_step_line(step) for step in c.steps)


COMMANDS = (
    HistoryColumn("Queued", lambda c: moment(c.created_at)),
    HistoryColumn("Command", lambda c: c.kind.replace("_", " ").capitalize()),
    HistoryColumn("Status", lambda c: c.status),
    HistoryColumn("Finished", lambda c: moment(c.finished_at)),
    HistoryColumn("Result", lambda c: c.result or ""),
    HistoryColumn("Steps", _steps_summary, tooltip=_steps_detail),
)

AUDIT = (
    HistoryColumn("When", lambda a: moment(a.created_at)),
    HistoryColumn("Who", lambda a: a.actor),
    HistoryColumn("Action", lambda a: a.action.replace("_", " ").capitalize()),
    HistoryColumn("Details", lambda a: a.details or ""),
)

# Names the type each tab holds, for readers of the workspace.
TAB_RECORDS = {
    "ledger": LedgerEntry,
    "payments": PaymentLine,
    "mpesa_checks": StatusQueryRow,
    "sessions": SessionLine,
    "invoices": InvoiceLine,
    "commands": ServiceCommandInfo,
    "audit": AuditLine,
}
