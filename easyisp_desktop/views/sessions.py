"""The Sessions page: who is online now, and the history of past sessions (read-only)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QRadioButton, QWidget

from easyisp_desktop.framework.entity_page import EntityPage, PageContext
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "sessions.read"

COLUMNS = (
    Column("username", "Username", sort_key="username"),
    Column("customer_name", "Customer", fmt.text),
    Column("router", "Router", fmt.text),
    Column("framed_ip", "IP address", fmt.text),
    Column("calling_station_id", "MAC", fmt.text),
    Column("started_at", "Started", fmt.moment, sort_key="started_at"),
    Column("stopped_at", "Stopped", fmt.moment),
    Column("session_time", "Duration", fmt.duration, alignment=RIGHT),
    Column("input_octets", "Upload", fmt.volume, alignment=RIGHT),
    Column("output_octets", "Download", fmt.volume, alignment=RIGHT),
    Column("terminate_cause", "Ended by", fmt.text, visible=False),
)


class SessionsPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Sessions",
            columns=COLUMNS,
            listing="sessions",
            nouns=("session", "sessions"),
            default_sort="started_at",
            parent=parent,
        )
        self.active_button = QRadioButton("Online now")
        self.history_button = QRadioButton("History")
        self.all_button = QRadioButton("All")
        self._which = QButtonGroup(self)
        for button in (self.active_button, self.history_button, self.all_button):
            self._which.addButton(button)
            self.action_bar.insertWidget(self.action_bar.count() - 1, button)
        self.active_button.setChecked(True)
        self.source.options["active"] = True
        self._which.buttonToggled.connect(self._switch)
        # Newest first (the header's indicator drives the model's order).
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_index("started_at"), Qt.SortOrder.DescendingOrder
        )

    def show_active(self, active: bool | None) -> None:
        """True: open sessions; False: finished ones; None: both."""
        button = {True: self.active_button, False: self.history_button, None: self.all_button}
        button[active].setChecked(True)

    def _switch(self, _button: object, checked: bool) -> None:
        if not checked:
            return
        if self.active_button.isChecked():
            self.source.options["active"] = True
        elif self.history_button.isChecked():
            self.source.options["active"] = False
        else:
            self.source.options.pop("active", None)
        self.model.refresh()
