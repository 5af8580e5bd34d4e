"""The Routers (NAS) page. Secrets go in through the nas service, encrypted with the site
key, and are never shown here; an empty secret on edit keeps the stored one.

Health is live two ways: a router's status or health verdict changing NOTIFYs (migration
0012) and the main window refreshes this page at once; the figures that move on every poll
(CPU, memory, uptime, last seen) do not notify, so the page re-reads them every
HEALTH_REFRESH_MS while it is visible. The console never reaches a router: Test and Sync are
queued for the site service (router_dialogs)."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session

from easyisp_core.db.engine import session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import ServiceCommandKind, VpnPeerStatus
from easyisp_core.repositories.lists import NasRow
from easyisp_core.services import nas as service
from easyisp_core.services.onboarding import OnboardingScript, onboarding_script
from easyisp_core.services.service_commands import ServiceCommandInfo, get_command, queue_command
from easyisp_core.services.vpn import VpnPeerInfo, peer_for_nas, set_peer_status
from easyisp_desktop.framework import forms
from easyisp_desktop.framework.entity_page import EntityPage, PageContext, RowColumn
from easyisp_desktop.framework.forms import FormDialog, Values, in_session, read_in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.framework.theme import Tone, colour
from easyisp_desktop.views import formatting as fmt
from easyisp_desktop.views.router_dialogs import OnboardingScriptDialog, RouterCommandDialog

PERMISSION = "nas.read"
WRITE = "nas.write"
# Queueing work for the site service is what the database checks (service_commands INSERT).
QUEUE = "sessions.disconnect"
SECRETS = "nas.secrets.read"
VPN_WRITE = "vpn.write"
# The health poll runs every 20 s; re-reading the visible page twice a minute keeps the
# figures at most one poll behind without a notification per router per poll.
HEALTH_REFRESH_MS = 30_000

# Light or dark shades, whichever the palette in use needs (framework/theme.py).
STATUS_TONES = {"ONLINE": Tone.GOOD, "OFFLINE": Tone.BAD, "PENDING": Tone.WARNING}


def status_colour(status: str | None) -> QColor | None:
    tone = STATUS_TONES.get(str(status)) if status is not None else None
    return None if tone is None else colour(tone)


def memory(row: NasRow) -> str:
    """ "62% of 256 MB" used, from the free and total bytes the router reports."""
    if not row.total_memory or row.free_memory is None:
        return ""
    used = 100 * (row.total_memory - row.free_memory) // row.total_memory
    return f"{used}% of {fmt.volume(row.total_memory)}"


def problem(row: NasRow) -> str:
    """The router's trouble in words: a suspected RADIUS secret mismatch (subscribers cannot
    log in, see docs/router-health.md) first, then the API poll's failure."""
    reasons = []
    if row.secret_mismatch_since is not None:
        reasons.append(
            f"RADIUS secret mismatch suspected since {fmt.moment(row.secret_mismatch_since)}"
            " (re-send it: Sync, re-send secret)"
        )
    if row.health_error:
        reasons.append(row.health_error)
    return "; ".join(reasons)


def cpu(load: int | None) -> str:
    return "" if load is None else f"{load}%"


COLUMNS = (
    Column("name", "Name", sort_key="name"),
    Column("ip_address", "Address"),
    Column("status", "Status", fmt.label, sort_key="status", foreground=status_colour),
    Column("last_seen_at", "Last seen", fmt.moment, sort_key="last_seen_at"),
    Column("routeros_version", "RouterOS", fmt.text),
    Column("board_name", "Board", fmt.text),
    Column("cpu_load", "CPU", cpu, alignment=RIGHT),
    RowColumn("memory", "Memory", memory, alignment=RIGHT),
    Column("uptime", "Uptime", fmt.text),
    # Hidden by default (the column chooser shows it): at 1366 px the reason needs the room.
    Column("location", "Location", fmt.text, visible=False),
    # Last: the reason is the longest text and gets the rest of the width.
    RowColumn(
        "health_error",
        "Problem",
        problem,
        foreground=lambda _row: colour(Tone.BAD),
        tooltip=problem,
    ),
    Column("api_username", "API user", fmt.text, visible=False),
    Column("api_port", "API port", alignment=RIGHT, visible=False),
    Column("require_message_authenticator", "Msg-Auth", fmt.yes_no, visible=False),
)


def _fields(*, editing: bool) -> tuple[forms.Field, ...]:
    keep = "leave empty to keep the current one" if editing else "leave empty to generate one"
    return (
        forms.text("name", "Name", required=True, placeholder="core-router"),
        forms.text("ip_address", "IP address", required=True, placeholder="10.0.0.1"),
        forms.password("secret", "RADIUS secret", help=keep),
        forms.text("api_username", "API username"),
        forms.password("api_password", "API password",
                       help="leave empty to keep the current one" if editing else ""),
        forms.integer("api_port", "API port", required=True),
        forms.text("location", "Location"),
        forms.boolean("require_message_authenticator", "Require Message-Authenticator"),
        *((forms.boolean(
            "forget_tls_certificate", "Forget the pinned API-SSL certificate",
            help="only after replacing the router's certificate on purpose",
        ),) if editing else ()),
    )  # fmt: skip


class RoutersPage(EntityPage):
    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            title="Routers",
            columns=COLUMNS,
            listing="routers",
            nouns=("router", "routers"),
            default_sort="name",
            parent=parent,
        )
        self.add_action(
            "new", "Add router…", self.new, permission=WRITE, needs_row=False, shortcut="Ctrl+N"
        )
        self.add_action("edit", "Edit…", self.edit, permission=WRITE)
        self.add_action("delete", "Delete", self.delete, permission=WRITE)
        self.add_action("script", "Onboarding script…", self.show_script, permission=SECRETS)
        self.add_action("test", "Test connection", self.test_connection, permission=WRITE)
        self.add_action("sync", "Sync router…", self.sync, permission=WRITE)
        for key in ("test", "sync"):
            if not context.identity.may(QUEUE):
                self._forbid(key)
        self.add_action("vpn_on", "Enable VPN", lambda: self.set_vpn(True), permission=VPN_WRITE)
        self.add_action("vpn_off", "Disable VPN", lambda: self.set_vpn(False),
                        permission=VPN_WRITE)  # fmt: skip
        # The dialog a Test or Sync opened, and the onboarding dialog (tests, screenshots).
        self.command_dialog: RouterCommandDialog | None = None
        self.script_dialog: OnboardingScriptDialog | None = None
        self._selected_id: uuid.UUID | None = None
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.page_loaded.connect(self._restore_selection)
        # The Problem column takes the width left over (the reason can be long).
        self.table.horizontalHeader().setStretchLastSection(True)
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(HEALTH_REFRESH_MS)
        self._health_timer.timeout.connect(self.refresh_health)
        self._health_timer.start()

    def _forbid(self, key: str) -> None:
        action = self.actions_by_key[key]
        action.allowed = False
        action.button.setVisible(False)

    # Keeping health current -------------------------------------------------------------

    def refresh_health(self) -> None:
        """Re-read the list when it is on screen (a hidden page is refreshed when shown)."""
        if self.isVisible() and not self.model.loading:
            self.model.refresh()

    def _remember_selection(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._selected_id = row.id

    def _restore_selection(self) -> None:
        wanted, self._selected_id = self._selected_id, None
        if wanted is None:
            return
        for index in range(self.model.rowCount()):
            # (None: a page dropped from memory, only past 10,000 routers.)
            if getattr(self.model.row_object(index), "id", None) == wanted:
                self.select_row(index)
                return

    def new(self) -> FormDialog:
        tenant, box = self.context.identity.tenant_slug, self.context.box

        def create(session: Session, values: Values) -> Any:
            if box is None:
                raise _no_site_key()
            info, _secret = service.create_nas(session, box, {"tenant": tenant, **_given(values)})
            return info

        return self.open_form(
            FormDialog(
                title="Add router",
                fields=_fields(editing=False),
                values={"api_port": 8728, "require_message_authenticator": True},
                save=in_session(self.context.sessions, create),
                workers=self.workers,
                intro="The RADIUS secret is stored encrypted; set the same one on the router.",
                parent=self,
            ),
            "Router added",
        )

    def edit(self) -> FormDialog | None:
        row = self.selected_row()
        if row is None:
            return None
        box = self.context.box

        def update(session: Session, values: Values) -> Any:
            return service.update_nas(session, box, row.id, values)

        return self.open_form(
            FormDialog(
                title=f"Edit router {row.name}",
                fields=_fields(editing=True),
                load=read_in_session(
                    self.context.sessions,
                    lambda s: service.nas_fields(s, row.id).model_dump(mode="json"),
                ),
                save=in_session(self.context.sessions, update),
                workers=self.workers,
                parent=self,
            ),
            "Router saved",
        )

    def delete(self) -> None:
        row = self.selected_row()
        if row is None or not self.confirm("Delete router", f"Delete the router {row.name}?"):
            return
        remove = in_session(self.context.sessions, lambda s, _v: service.delete_nas(s, row.id))
        self.run_command(lambda: remove({}), f"Router {row.name} deleted")

    # Onboarding, Test, Sync, VPN --------------------------------------------------------

    def show_script(self) -> OnboardingScriptDialog | None:
        row = self.selected_row()
        if row is None:
            return None
        sessions, box = self.context.sessions, self.context.box
        tenant = self.context.identity.tenant_slug

        def generate(major: int) -> OnboardingScript:
            if box is None:
                raise ValidationFailed(
                    {}, "This computer has no site key: generate the script on the site server."
                )
            if tenant is None:
                raise ValidationFailed({}, "Log in as the tenant's staff to onboard its routers.")
            # Committed: the first script stores the API login and allocates the VPN peer.
            with session_scope(sessions) as session:
                return onboarding_script(session, box, tenant, row.name, major)

        dialog = OnboardingScriptDialog(row.name, generate, self.workers, parent=self)
        self.script_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        dialog.generate()
        return dialog

    def test_connection(self) -> RouterCommandDialog | None:
        return self._command(ServiceCommandKind.ROUTER_TEST, "Test connection", {})

    def sync(self) -> RouterCommandDialog | None:
        return self._command(ServiceCommandKind.ROUTER_SYNC, "Sync", {"apply": False})

    def _command(
        self, kind: ServiceCommandKind, verb: str, payload: dict[str, Any]
    ) -> RouterCommandDialog | None:
        row = self.selected_row()
        if row is None:
            return None
        sessions = self.context.sessions

        def queue(given: dict[str, Any]) -> ServiceCommandInfo:
            with session_scope(sessions) as session:
                return queue_command(session, kind=kind, nas_id=row.id, payload=given)

        def read(command_id: int) -> ServiceCommandInfo:
            with session_scope(sessions) as session:
                return get_command(session, command_id)

        dialog = RouterCommandDialog(
            title=f"{verb}: {row.name}",
            kind=kind.value,
            queue=queue,
            read=read,
            workers=self.workers,
            live=self.context.live,
            service_running=self.context.service_running,
            parent=self,
        )
        self.command_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        dialog.start(payload)
        return dialog

    def set_vpn(self, enabled: bool) -> None:
        row = self.selected_row()
        if row is None:
            return
        status = VpnPeerStatus.ACTIVE if enabled else VpnPeerStatus.DISABLED

        def change(session: Session, _values: Values) -> VpnPeerInfo:
            peer = peer_for_nas(session, row.id)
            if peer is None:
                raise ValidationFailed(
                    {}, f"{row.name} has no VPN peer yet: its RouterOS 7 onboarding script "
                    "creates one."
                )  # fmt: skip
            return set_peer_status(session, peer.id, status)

        word = "enabled" if enabled else "disabled"
        work = in_session(self.context.sessions, change)
        self.run_command(lambda: work({}), f"VPN peer of {row.name} {word}")


def _given(values: Values) -> Values:
    return {key: value for key, value in values.items() if value is not None}


def _no_site_key() -> Exception:
    from easyisp_core.errors import ValidationFailed

    return ValidationFailed(
        {"secret": "this computer has no site key; add routers on the site server"}
    )
