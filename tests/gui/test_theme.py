"""`ui.theme` changes the window's colours: dark, light, and back to the desktop's for auto."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from llm_session_manager.ui.theme import apply_theme


def window_lightness(app: QApplication) -> int:
    return app.palette().color(QPalette.ColorRole.Window).lightness()


def test_theme_sets_the_palette(qapp: QApplication) -> None:
    desktop = window_lightness(qapp)
    try:
        apply_theme(qapp, "dark")
        assert window_lightness(qapp) < 80
        assert qapp.palette().color(QPalette.ColorRole.Text).lightness() > 200
        apply_theme(qapp, "light")
        assert window_lightness(qapp) > 180
        apply_theme(qapp, "auto")
        assert window_lightness(qapp) == desktop
    finally:
        apply_theme(qapp, "auto")
