"""Context fill (%) and cumulative tokens over time, drawn with QPainter (no QtCharts in
PySide6-Essentials). Compactions are marked with ▼ where the context shrank."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from llm_session_manager.core.models import UsageSample
from llm_session_manager.core.report import short_tokens
from llm_session_manager.core.usage_series import UsageSeries, usage_series

FILL_COLOUR = QColor("#1e88e5")
TOKENS_COLOUR = QColor("#8e24aa")
COMPACTION_COLOUR = QColor("#c62828")


class UsageChart(QWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._series = usage_series(())
        self._note = "Select a session to see its history."

    def sizeHint(self) -> QSize:
        return QSize(480, 180)

    def set_samples(self, samples: Sequence[UsageSample]) -> None:
        self.set_series(usage_series(samples))

    def set_series(self, series: UsageSeries) -> None:
        """A series made in the poller thread (from the agent's records or the samples)."""
        self._series = series
        self._note = "" if series.points else "No history recorded for this session yet."
        self.update()

    def clear(self, note: str = "") -> None:
        self._series = usage_series(())
        self._note = note
        self.update()

    @property
    def series(self) -> UsageSeries:
        return self._series

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        series = self._series
        if not series.points:
            painter.setPen(text_colour)
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self._note)
            return
        metrics = painter.fontMetrics()
        left = metrics.horizontalAdvance("100%") + 10
        right = metrics.horizontalAdvance("999.9k") + 10
        plot = QRectF(left, 12 + metrics.height(), self.width() - left - right,
                      self.height() - 24 - 2 * metrics.height())
        if plot.width() < 20 or plot.height() < 20:
            return
        self._axes(painter, plot, series, text_colour)
        span = max(series.end - series.start, 1.0)
        top_tokens = max(series.max_tokens, 1)

        def x_of(at: float) -> float:
            if series.end == series.start:  # one sample: put it in the middle
                return plot.center().x()
            return plot.left() + (at - series.start) / span * plot.width()

        tokens = QPainterPath()
        fill = QPainterPath()
        fill_started = False
        for i, p in enumerate(series.points):
            point = QPointF(x_of(p.at), plot.bottom() - p.total_tokens / top_tokens * plot.height())
            tokens.moveTo(point) if i == 0 else tokens.lineTo(point)
            if p.fill is not None:
                fp = QPointF(x_of(p.at), plot.bottom() - min(p.fill, 1.0) * plot.height())
                fill.lineTo(fp) if fill_started else fill.moveTo(fp)
                fill_started = True
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(TOKENS_COLOUR, 2, Qt.PenStyle.DashLine))
        painter.drawPath(tokens)
        painter.setPen(QPen(FILL_COLOUR, 2))
        painter.drawPath(fill)
        for p in series.points:  # dots, so a single sample is visible too
            if p.fill is not None:
                y = plot.bottom() - min(p.fill, 1.0) * plot.height()
                painter.setBrush(FILL_COLOUR)
                painter.drawEllipse(QPointF(x_of(p.at), y), 2.5, 2.5)
        painter.setPen(COMPACTION_COLOUR)
        for p in series.compactions:
            x = x_of(p.at)
            painter.drawText(QRectF(x - 8, plot.top(), 16,
                                    metrics.height()), int(Qt.AlignmentFlag.AlignCenter), "▼")
            painter.setPen(QPen(COMPACTION_COLOUR, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.setPen(COMPACTION_COLOUR)
        self._legend(painter, plot, text_colour)

    def _axes(self, painter: QPainter, plot: QRectF, series: UsageSeries, colour: QColor) -> None:
        grid = QColor(colour)
        grid.setAlpha(40)
        metrics = painter.fontMetrics()
        for step in range(5):
            y = plot.bottom() - step / 4 * plot.height()
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(FILL_COLOUR)
            painter.drawText(QRectF(0, y - metrics.height() / 2, plot.left() - 4, metrics.height()),
                             int(Qt.AlignmentFlag.AlignRight), f"{step * 25}%")
            painter.setPen(TOKENS_COLOUR)
            label = short_tokens(round(series.max_tokens * step / 4))
            painter.drawText(QRectF(plot.right() + 4, y - metrics.height() / 2, 80,
                                    metrics.height()), int(Qt.AlignmentFlag.AlignLeft), label)
        painter.setPen(colour)
        bottom = QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height())
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignLeft), _clock(series.start))
        if series.end != series.start:
            painter.drawText(bottom, int(Qt.AlignmentFlag.AlignRight), _clock(series.end))

    def _legend(self, painter: QPainter, plot: QRectF, colour: QColor) -> None:
        metrics = painter.fontMetrics()
        x = plot.left()
        y = 4.0
        for label, c in (("context fill %", FILL_COLOUR), ("cumulative tokens", TOKENS_COLOUR),
                         ("▼ compaction", COMPACTION_COLOUR)):
            painter.setPen(c)
            painter.drawText(QPointF(x, y + metrics.ascent()), label)
            x += metrics.horizontalAdvance(label) + 16
        painter.setPen(colour)


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%H:%M")
