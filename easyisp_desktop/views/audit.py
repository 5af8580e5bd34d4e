"""The Audit log page: who did what to which record (read-only), filtered by target or actor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from easyisp_core.models.enums import AuditTargetType
from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.table_model import Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "audit.read"

COLUMNS = (
    Column("created_at", "When", fmt.moment, sort_key="created_at"),
    Column("actor", "Who"),
    Column("action", "Action", sort_key="action"),
    Column("target_type", "Target", fmt.label),
    Column("target_label", "Record", fmt.text),
    Column("details", "Details", fmt.text),
)


class AuditPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Audit log",
            columns=COLUMNS,
            listing="audit",
            nouns=("entry", "entries"),
            default_sort="created_at",
            parent=parent,
        )
        self.target_box = QComboBox()
        self.target_box.addItem("Any target", None)
        for kind in AuditTargetType:
            self.target_box.addItem(fmt.label(kind), kind.value)
        self.actor_box = QLineEdit()
        self.actor_box.setPlaceholderText("Actor (login name)")
        self.actor_box.setClearButtonEnabled(True)
        self.action_bar.insertWidget(0, self.target_box)
        self.action_bar.insertWidget(1, self.actor_box)
        self.target_box.currentIndexChanged.connect(self._filter_changed)
        self.actor_box.editingFinished.connect(self._filter_changed)
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_index("created_at"), Qt.SortOrder.DescendingOrder
        )

    def filter_by(self, *, target_type: str | None = None, actor: str | None = None) -> None:
        self.target_box.setCurrentIndex(max(self.target_box.findData(target_type), 0))
        self.actor_box.setText(actor or "")
        self._filter_changed()

    def _filter_changed(self) -> None:
        options = self.source.options
        options["target_type"] = self.target_box.currentData()
        options["actor"] = self.actor_box.text().strip() or None
        self.model.refresh()
