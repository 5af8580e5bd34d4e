"""The SMS log page: every message sent or attempted, newest first (read-only)."""

from __future__ import annotations

from decimal import Decimal

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "sms.read"


def _cost(value: Decimal | None) -> str:
    return "" if value is None else f"KES {value:,.2f}"


class SmsLogPage(DeclaredPage):
    TITLE = "SMS log"
    LISTING = "sms_log"
    NOUNS = ("message", "messages")
    SORT = "created_at"
    NEWEST_FIRST = True
    COLUMNS = (
        Column("created_at", "Sent", fmt.moment, sort_key="created_at"),
        Column("phone", "Phone"),
        Column("customer_name", "Customer", fmt.text),
        Column("message", "Message"),
        Column("status", "Status", fmt.label),
        Column("cost", "Cost", _cost, alignment=RIGHT),
        Column("error", "Error", fmt.text),
    )
