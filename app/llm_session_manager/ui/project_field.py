"""The project name of a session: edit and press Enter (or leave the field) to ask for a change.

An empty field asks to forget the user's name, so the project comes from the folder again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLineEdit


class ProjectField(QLineEdit):
    project_changed = Signal(object)  # str | None

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("project (from the folder)")
        self.setToolTip("The project this session belongs to; empty: the folder's name")
        self._shown = ""
        self.editingFinished.connect(self._commit)

    def set_project(self, name: str | None) -> None:
        """What the snapshot says; the user's unfinished typing is not overwritten."""
        name = name or ""
        if self.hasFocus() and self.isModified():
            self._shown = name
            return
        self._shown = name
        self.setText(name)
        self.setModified(False)

    @Slot()
    def _commit(self) -> None:
        text = self.text().strip()
        if not self.isModified() or text == self._shown:
            return
        self.setModified(False)
        self._shown = text
        self.project_changed.emit(text or None)
