"""The row above the table: search, agent/state/tag choices, "show ended", counts and refresh."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from llm_session_manager.core.formatting import agent_label
from llm_session_manager.ui.session_table import ANY

_STATES = (
    ("Live", "live"), ("All", "all"), ("Active", "active"), ("Waiting", "waiting"),
    ("Idle", "idle"), ("Ended", "ended"), ("Imported", "imported"),
)


class FilterBar(QWidget):
    filters_changed = Signal()
    refresh_clicked = Signal()

    def __init__(self, show_ended: bool = False, parent: Any = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search title, project, id, tags…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setObjectName("search")
        self.agent = QComboBox(self)
        self.agent.addItem("All", ANY)
        self.state = QComboBox(self)
        for label, value in _STATES:
            self.state.addItem(label, value)
        self.tag = QComboBox(self)
        self.tag.addItem("Any", ANY)
        self.show_ended = QCheckBox("show ended", self)
        self.show_ended.setChecked(show_ended)
        self.counts = QLabel("0 live · 0 ended", self)
        self.counts.setObjectName("counts")
        self.refresh = QToolButton(self)
        self.refresh.setText("⟳")
        self.refresh.setToolTip("Refresh now (F5)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 2)
        layout.addWidget(self.search, 3)
        for caption, combo in (("Agent", self.agent), ("State", self.state), ("Tag", self.tag)):
            layout.addWidget(QLabel(caption, self))
            layout.addWidget(combo)
        layout.addWidget(self.show_ended)
        layout.addStretch(1)
        layout.addWidget(self.counts)
        layout.addWidget(self.refresh)

        self.search.textChanged.connect(self._changed)
        for combo in (self.agent, self.state, self.tag):
            combo.currentIndexChanged.connect(self._changed)
        self.show_ended.toggled.connect(self._changed)
        self.refresh.clicked.connect(self.refresh_clicked)

    @Slot()
    def _changed(self) -> None:
        self.filters_changed.emit()

    def set_choices(self, agents: Iterable[str], tags: Iterable[str]) -> None:
        """Offer the agents and tags in the latest snapshot; the current choice stays."""
        _refill(self.agent, [(agent_label(a), a) for a in sorted(set(agents))])
        _refill(self.tag, [(t, t) for t in sorted(set(tags))])

    def set_counts(self, text: str) -> None:
        self.counts.setText(text)

    def values(self) -> dict[str, Any]:
        return {
            "search": self.search.text(),
            "agent": self.agent.currentData() or ANY,
            "state": self.state.currentData() or "live",
            "tag": self.tag.currentData() or ANY,
            "show_ended": self.show_ended.isChecked(),
        }

    def reset(self) -> None:
        """Every session shows again (quietly: the caller filters once afterwards)."""
        widgets = (self.search, self.agent, self.state, self.tag)
        for widget in widgets:
            widget.blockSignals(True)
        self.search.clear()
        self.select(self.agent, ANY)
        self.select(self.tag, ANY)
        self.select(self.state, "all")
        for widget in widgets:
            widget.blockSignals(False)

    def select(self, combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)


def _refill(combo: QComboBox, items: list[tuple[str, str]]) -> None:
    """Keep item 0 ("All"/"Any") and the current choice, even if it left the snapshot."""
    current = combo.currentData()
    wanted = list(items)
    if current and current not in {value for _, value in wanted}:
        wanted.append((str(current), str(current)))
    existing = [(combo.itemText(i), combo.itemData(i)) for i in range(1, combo.count())]
    if existing == wanted:
        return  # nothing new: don't touch the combo (it would flicker and signal)
    combo.blockSignals(True)
    while combo.count() > 1:
        combo.removeItem(1)
    for label, value in wanted:
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
