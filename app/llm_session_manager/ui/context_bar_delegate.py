"""Paints the context column as a bar coloured by the health thresholds, with the percentage."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from llm_session_manager.config import HealthConfig
from llm_session_manager.core.formatting import fill_level
from llm_session_manager.ui.session_table import GREY, LEVEL_COLOURS, SessionTableModel


class ContextBarDelegate(QStyledItemDelegate):
    def __init__(self, health: HealthConfig, parent: Any = None) -> None:
        super().__init__(parent)
        self._health = health

    def set_health(self, health: HealthConfig) -> None:
        self._health = health

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        fill = index.data(SessionTableModel.SortRole)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        style = option.widget.style() if option.widget is not None else None
        painter.save()
        if style is not None:  # selection and hover background, without the text
            bare = QStyleOptionViewItem(option)
            self.initStyleOption(bare, index)
            bare.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, bare, painter, option.widget)
        rect = option.rect.adjusted(4, 5, -4, -5)
        text_width = option.fontMetrics.horizontalAdvance("100%") + 6
        bar = QRect(rect.left(), rect.top(), max(10, rect.width() - text_width), rect.height())
        if isinstance(fill, float) and fill >= 0:
            level = fill_level(fill, self._health)
            colour = QColor(LEVEL_COLOURS.get(level or "", GREY))
            painter.setPen(Qt.PenStyle.NoPen)
            track = QColor(colour)
            track.setAlpha(45)
            painter.setBrush(track)
            painter.drawRoundedRect(bar, 3, 3)
            filled = QRect(bar)
            filled.setWidth(max(2, round(bar.width() * min(fill, 1.0))))
            painter.setBrush(colour)
            painter.drawRoundedRect(filled, 3, 3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(option.palette.color(role))
        text_rect = QRect(bar.right() + 4, option.rect.top(), text_width, option.rect.height())
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if not (isinstance(fill, float) and fill >= 0):
            text_rect = option.rect.adjusted(4, 0, -4, 0)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(text_rect, int(align), text)
        painter.restore()
