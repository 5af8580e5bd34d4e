"""The Chart of accounts page (read-only list)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "accounts.read"


class AccountsPage(DeclaredPage):
    TITLE = "Chart of accounts"
    LISTING = "accounts"
    NOUNS = ("account", "accounts")
    SORT = "code"
    COLUMNS = (
        Column("code", "Code", sort_key="code"),
        Column("name", "Name", sort_key="name"),
        Column("type", "Type", fmt.label),
        Column("description", "Description", fmt.text),
        Column("is_active", "Active", fmt.yes_no),
    )
