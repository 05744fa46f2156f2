"""Tray and menu icons drawn with QPainter: a filled circle whose colour is the level.

Drawn at each requested size (and at 2x for HiDPI panels) rather than scaled, so a 16 px icon
is as crisp as a 64 px one. A dark ring with a light halo outside it keeps the circle visible on
light and dark panels alike; a blue dot in the top-right corner means a session waits for its
user. Pixmaps are cached per (level, waiting, size, ratio): a poll every second costs nothing.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from llm_session_manager.ui.tray_state import TrayLevel

LEVEL_COLOURS: dict[TrayLevel, str] = {
    "healthy": "#2e7d32",
    "warning": "#f9a825",
    "critical": "#c62828",
    "idle": "#9e9e9e",
}
WAITING_COLOUR = "#1e88e5"
SIZES = (16, 22, 32, 44, 64)
RATIOS = (1.0, 2.0)
_DARK_RING = QColor(0, 0, 0, 170)
_LIGHT_HALO = QColor(255, 255, 255, 150)


@lru_cache(maxsize=128)
def level_pixmap(level: TrayLevel, waiting: bool, size: int, ratio: float = 1.0) -> QPixmap:
    """`size` is in device-independent pixels; the pixmap holds size*ratio device pixels."""
    px = max(1, round(size * ratio))
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    line = max(1.0, px / 16.0)
    # Halo, then ring, then fill: each inset by one line width so nothing is clipped at the edge.
    outer = QRectF(0, 0, px, px).adjusted(line / 2, line / 2, -line / 2, -line / 2)
    _circle(painter, outer, None, QPen(_LIGHT_HALO, line))
    ring = outer.adjusted(line, line, -line, -line)
    _circle(painter, ring, QColor(LEVEL_COLOURS[level]), QPen(_DARK_RING, line))
    if waiting:
        dot = px * 0.42
        centre = QPointF(px - dot / 2, dot / 2)
        rect = QRectF(centre.x() - dot / 2, centre.y() - dot / 2, dot, dot)
        rect = rect.adjusted(line / 2, line / 2, -line / 2, -line / 2)
        _circle(painter, rect, QColor(WAITING_COLOUR), QPen(QColor("#ffffff"), line))
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


@lru_cache(maxsize=16)
def level_icon(level: TrayLevel, waiting: bool = False) -> QIcon:
    """One QIcon holding every size at 1x and 2x; Qt picks the one the panel asks for."""
    icon = QIcon()
    for size in SIZES:
        for ratio in RATIOS:
            icon.addPixmap(level_pixmap(level, waiting, size, ratio))
    return icon


def _circle(painter: QPainter, rect: QRectF, fill: QColor | None, pen: QPen) -> None:
    painter.setPen(pen)
    painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
    painter.drawEllipse(rect)
