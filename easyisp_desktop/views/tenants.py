"""The Tenants page: every ISP on this site (super admins only; read-only list)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "tenants.manage"


class TenantsPage(DeclaredPage):
    TITLE = "Tenants"
    LISTING = "tenants"
    NOUNS = ("tenant", "tenants")
    SORT = "name"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("display_name", "Display name"),
        Column("status", "Status", fmt.label),
        Column("created_at", "Created", fmt.moment, sort_key="created_at"),
    )
