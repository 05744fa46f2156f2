"""A dismissible bar at the top of the window: problems never block the poll with a modal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton


class ProblemBar(QFrame):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemBar")
        self.setStyleSheet(
            "#problemBar { background: #fff3cd; border-bottom: 1px solid #f9a825; }"
            "#problemBar QLabel { color: #5d4200; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton(self)
        self.close_button.setText("×")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.close_button.clicked.connect(self.dismiss)
        self._messages: list[str] = []  # shown now, newest last
        self._dismissed: set[str] = set()  # what the user closed: it does not come back
        self._snapshot_texts: set[str] = set()  # the latest snapshot's problems
        self.hide()

    def show_problem(self, text: str) -> None:
        """One message (e.g. a failed request); shown again even if an equal one was dismissed."""
        self._dismissed.discard(text)
        if text not in self._messages:
            self._messages.append(text)
        self._render()

    def set_problems(self, texts: Sequence[str]) -> None:
        """The snapshot's problems: the bar shows those not yet dismissed; old ones leave."""
        fresh = [t for t in texts if t not in self._dismissed]
        keep = [m for m in self._messages if m in texts or m not in self._snapshot_texts]
        self._snapshot_texts = set(texts)
        self._messages = keep + [t for t in fresh if t not in keep]
        self._render()

    @Slot()
    def dismiss(self) -> None:
        self._dismissed.update(self._messages)
        self._messages = []
        self._render()

    def messages(self) -> tuple[str, ...]:
        return tuple(self._messages)

    def _render(self) -> None:
        if not self._messages:
            self.hide()
            return
        shown = self._messages[-3:]
        more = len(self._messages) - len(shown)
        text = "\n".join(f"⚠ {m}" for m in shown)
        if more:
            text += f"\n… and {more} more"
        self.label.setText(text)
        self.show()
