"""A session's tags as removable chips, and a field that adds tags with completion.

The editor changes nothing itself: it asks (tags_added / tag_removed) and shows what the next
snapshot says, so the store stays the one truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal, Slot
from PySide6.QtWidgets import QCompleter, QHBoxLayout, QLineEdit, QToolButton, QWidget


class TagEditor(QWidget):
    tags_added = Signal(object)  # tuple[str, ...]
    tag_removed = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._tags: tuple[str, ...] = ()
        self._chips: list[QToolButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("+ add tag")
        self.field.setToolTip("Type a tag and press Enter; separate several with commas")
        self.field.setMaximumWidth(160)
        self._known = QStringListModel(self)
        completer = QCompleter(self._known, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.field.setCompleter(completer)
        self._layout.addWidget(self.field)
        self._layout.addStretch(1)
        self.field.returnPressed.connect(self._add)

    def set_tags(self, tags: Iterable[str]) -> None:
        tags = tuple(tags)
        if tags == self._tags and len(self._chips) == len(tags):
            return
        self._tags = tags
        for chip in self._chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self._chips = []
        for position, tag in enumerate(tags):
            chip = QToolButton(self)
            chip.setText(f"{tag}  ×")
            chip.setToolTip(f"Remove the tag {tag!r}")
            chip.setProperty("tag", tag)
            chip.clicked.connect(self._remove_clicked)
            self._layout.insertWidget(position, chip)
            self._chips.append(chip)

    def set_known_tags(self, tags: Iterable[str]) -> None:
        """Every tag in use (from the worker's tags_ready), offered while typing."""
        self._known.setStringList(sorted(set(tags)))

    def known_tags(self) -> list[str]:
        return self._known.stringList()

    def tags(self) -> tuple[str, ...]:
        return self._tags

    def chips(self) -> list[QToolButton]:
        return list(self._chips)

    @Slot()
    def _add(self) -> None:
        wanted = tuple(t.strip() for t in self.field.text().split(",") if t.strip())
        new = tuple(t for t in dict.fromkeys(wanted) if t not in self._tags)
        self.field.clear()
        if new:
            self.tags_added.emit(new)

    @Slot()
    def _remove_clicked(self) -> None:
        chip = self.sender()
        tag = chip.property("tag") if chip is not None else None
        if isinstance(tag, str):
            self.tag_removed.emit(tag)
