"""The window's colours from the config: `ui.theme` auto (the desktop's own), light or dark.

Qt's colour-scheme hint is honoured only by some platform themes (not by plain X11 or
offscreen), so light and dark are palettes of their own on the Fusion style, which every
platform has. The tray icons need no theme: they carry an outline for light and dark panels.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# The palette and style the desktop gave the app, kept to go back to for "auto".
_ORIGINAL: dict[str, object] = {}

_DARK = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f1f1f",
    QPalette.ColorRole.AlternateBase: "#2a2a2a",
    QPalette.ColorRole.ToolTipBase: "#3a3a3a",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#2f6fb0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6aa9ff",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
}


def apply_theme(app: QApplication, theme: str) -> None:
    if not _ORIGINAL:
        _ORIGINAL["palette"] = QPalette(app.palette())
        _ORIGINAL["style"] = app.style().name()
    if theme == "dark":
        app.setStyle("Fusion")
        palette = QPalette()
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        app.setPalette(palette)
    elif theme == "light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
    else:  # auto: whatever the desktop gave
        app.setStyle(str(_ORIGINAL["style"]))
        original = _ORIGINAL["palette"]
        assert isinstance(original, QPalette)
        app.setPalette(original)
