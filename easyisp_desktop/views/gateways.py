"""The Payment gateways and SMS gateways pages (read-only; credentials are never listed)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "gateways.read"


class PaymentGatewaysPage(DeclaredPage):
    TITLE = "Payment gateways"
    LISTING = "payment_gateways"
    NOUNS = ("gateway", "gateways")
    SORT = "name"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("provider", "Provider", fmt.label),
        Column("purpose", "Purpose", fmt.label),
        Column("shortcode", "Shortcode"),
        Column("is_active", "Active", fmt.yes_no),
    )


class SmsGatewaysPage(DeclaredPage):
    TITLE = "SMS gateways"
    LISTING = "sms_gateways"
    NOUNS = ("gateway", "gateways")
    SORT = "name"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("provider", "Provider", fmt.label),
        Column("purpose", "Purpose", fmt.label),
        Column("sender_id", "Sender ID", fmt.text),
        Column("is_default", "Default", fmt.yes_no),
        Column("is_active", "Active", fmt.yes_no),
    )
