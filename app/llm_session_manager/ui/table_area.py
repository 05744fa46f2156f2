"""The table, or in its place a line saying why it has no row: no session yet (and where the
agents' records were looked for), or filters that hide every session (and which one to change).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QStackedWidget

from llm_session_manager.core import formatting as fmt
from llm_session_manager.core.root_status import RootStatus
from llm_session_manager.ui.session_table import (
    SessionFilterProxyModel,
    SessionTableModel,
    SessionTableView,
)


class TableArea(QStackedWidget):
    def __init__(self, table: SessionTableView, proxy: SessionFilterProxyModel,
                 model: SessionTableModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.table = table
        self._proxy = proxy
        self._model = model
        self._roots: tuple[RootStatus, ...] | None = None  # None: no poll has told them yet
        self.empty = QLabel(fmt.empty_state_text(None, Path.home()), self)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.addWidget(self.table)
        self.addWidget(self.empty)

    @Slot(object)
    def set_roots(self, roots: Sequence[RootStatus]) -> None:
        """The roots as the poller's thread found them; they come before the snapshot."""
        self._roots = tuple(roots)
        if self.currentWidget() is self.empty:
            self.update_view()

    def update_view(self) -> None:
        """Show the table when it has a row, else the reason it has none."""
        if self._proxy.rowCount() > 0:
            self.setCurrentWidget(self.table)
            return
        total = sum(1 for s in self._model.sessions() if not s.hidden)
        if total == 0:
            text = fmt.empty_state_text(self._roots, Path.home())
        else:
            text = fmt.filtered_empty_text(
                self._proxy.state_filter, self._proxy.held_back_by_state(),
                self._proxy.narrowed, total,
            )
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)
