"""Our own colours (status texts, error lines, the routers' ONLINE/OFFLINE badges), readable in
light and dark mode.

The console follows the OS colour scheme the way Qt does: the style's palette changes with the
system's light/dark setting (QStyleHints.colorScheme, Qt 6.5+). Everything drawn from the
palette follows by itself; a fixed colour does not (the dark red of an error line on white is
unreadable on dark grey). So each tone has a shade for a light and one for a dark background,
picked from the palette in use, and labels coloured by tone are re-coloured when it changes.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget


class Tone(enum.Enum):
    GOOD = "good"
    BAD = "bad"
    WARNING = "warning"
    ERROR = "error"


# (on a light window, on a dark window): each at least 4.5:1 against the window and the
# view background of Qt's standard light and dark palettes (tests/gui/test_theme.py).
_SHADES: dict[Tone, tuple[str, str]] = {
    Tone.GOOD: ("#176b32", "#7ddc96"),
    Tone.BAD: ("#c62828", "#ff8a80"),
    Tone.WARNING: ("#8a5a00", "#ffcc66"),
    Tone.ERROR: ("#b00020", "#ff9a9a"),
}
_COLOURS = {tone: (QColor(light), QColor(dark)) for tone, (light, dark) in _SHADES.items()}
# The label property that remembers a widget's tone (re-applied when the palette changes).
_TONE = "easyisp_tone"
_EXTRA = "easyisp_tone_css"


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether text sits on a dark background (judged from the palette really in use)."""
    window = (palette or QGuiApplication.palette()).color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def colour(tone: Tone, palette: QPalette | None = None) -> QColor:
    _follow_palette()
    return _COLOURS[tone][1 if is_dark(palette) else 0]


def set_tone(widget: QWidget, tone: Tone | None, css: str = "") -> None:
    """Colour a widget's text by `tone` (None: the palette's), now and whenever the palette
    changes; `css` adds other declarations (e.g. "font-weight: bold;")."""
    _follow_palette()
    widget.setProperty(_TONE, None if tone is None else tone.value)
    widget.setProperty(_EXTRA, css)
    _apply(widget)


def _apply(widget: QWidget) -> None:
    value = widget.property(_TONE)
    css = widget.property(_EXTRA) or ""
    shade = f"color: {colour(Tone(value)).name()}; " if value else ""
    widget.setStyleSheet(f"{shade}{css}".strip())


class _PaletteFollower(QObject):
    """Re-colours toned widgets when the palette changes, and asks the style for its palette
    of the new scheme when the OS switches light/dark but the palette did not follow."""

    def __init__(self, app: QGuiApplication) -> None:
        super().__init__(app)
        self.app = app
        app.paletteChanged.connect(self.recolour)
        app.styleHints().colorSchemeChanged.connect(self.follow_scheme)

    def follow_scheme(self, scheme: Qt.ColorScheme) -> None:
        wanted_dark = scheme == Qt.ColorScheme.Dark
        if scheme != Qt.ColorScheme.Unknown and wanted_dark != is_dark():
            style = QApplication.style()
            if style is not None:
                self.app.setPalette(style.standardPalette())
        self.recolour()

    def recolour(self, *_args: object) -> None:
        for widget in QApplication.allWidgets():
            if widget.property(_TONE) is not None or widget.property(_EXTRA):
                _apply(widget)


_followed: list[tuple[QCoreApplication, _PaletteFollower]] = []


def _follow_palette() -> None:
    app = QCoreApplication.instance()
    if isinstance(app, QGuiApplication) and (not _followed or _followed[0][0] is not app):
        _followed[:] = [(app, _PaletteFollower(app))]
