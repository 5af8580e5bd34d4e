"""Light and dark: our own colours (status texts, error lines, the routers' ONLINE/OFFLINE
badges) are picked for the palette in use and follow it when the OS switches scheme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QStyleFactory
from pytestqt.qtbot import QtBot

from easyisp_desktop.framework.theme import Tone, colour, is_dark, set_tone
from easyisp_desktop.views.routers import status_colour


def luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio; 4.5 is the minimum for body text."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def dark_palette() -> QPalette:
    """A dark palette as the OS gives one (window #2d2d2d, views darker, light text)."""
    palette = QPalette(QColor("#2d2d2d"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#f0f0f0"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#f0f0f0"))
    return palette


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    assert style is not None
    return style.standardPalette()


@pytest.fixture
def app_palette(qtbot: QtBot) -> Iterator[QApplication]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QGuiApplication.palette()
    yield app
    app.setPalette(before)


@pytest.mark.parametrize("palette", [light_palette(), dark_palette()], ids=["light", "dark"])
@pytest.mark.parametrize("tone", list(Tone))
def test_every_tone_is_readable_on_the_window_and_on_tables(palette: QPalette, tone: Tone) -> None:
    shade = colour(tone, palette)
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        assert contrast(shade, palette.color(role)) >= 4.5, (tone, role, shade.name())


def test_switching_to_dark_recolours_status_texts_and_error_lines(
    qtbot: QtBot, app_palette: QApplication
) -> None:
    app_palette.setPalette(light_palette())
    label = QLabel("Wrong password")
    qtbot.addWidget(label)
    set_tone(label, Tone.ERROR, "font-weight: bold;")
    online_light = status_colour("ONLINE")
    assert not is_dark()
    assert colour(Tone.ERROR).name() in label.styleSheet()

    app_palette.setPalette(dark_palette())  # what the style does when the OS goes dark
    assert is_dark()
    online_dark = status_colour("ONLINE")
    assert online_dark is not None
    assert online_dark != online_light
    assert contrast(online_dark, QGuiApplication.palette().color(QPalette.ColorRole.Base)) >= 4.5
    assert label.styleSheet() == f"color: {colour(Tone.ERROR).name()}; font-weight: bold;"
    assert contrast(QColor(colour(Tone.ERROR)), QColor("#2d2d2d")) >= 4.5

    app_palette.setPalette(light_palette())
    assert status_colour("ONLINE") == online_light
    assert label.styleSheet().startswith(f"color: {colour(Tone.ERROR).name()};")
    # A label whose tone is taken away goes back to the palette's text colour.
    set_tone(label, None)
    assert label.styleSheet() == ""


def test_selected_rows_use_the_palettes_highlight_in_both_schemes() -> None:
    """Selected rows are drawn with Highlight / HighlightedText (our tones colour only the
    unselected text), so they are as readable as the palette makes them."""
    for palette in (light_palette(), dark_palette()):
        highlight = palette.color(QPalette.ColorRole.Highlight)
        text = palette.color(QPalette.ColorRole.HighlightedText)
        assert contrast(highlight, text) >= 3.0
