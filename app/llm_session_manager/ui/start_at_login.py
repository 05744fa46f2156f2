"""The "Start at login" check box for the settings dialog: the same switch as `autostart on|off`.

It reads the entry's state when built and writes the entry when toggled (a small file or one
registry value: quick enough for the GUI thread, and it never touches the database).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QWidget

from llm_session_manager import autostart

log = logging.getLogger(__name__)


class StartAtLoginBox(QCheckBox):
    def __init__(
        self, parent: QWidget | None = None, backend: autostart.AutostartBackend | None = None
    ) -> None:
        super().__init__("Start at login", parent)
        self._backend = backend or autostart.backend_for()
        self._show(autostart.status(self._backend))
        self.toggled.connect(self.on_toggled)

    def _show(self, status: autostart.AutostartStatus) -> None:
        self.blockSignals(True)
        self.setChecked(status.enabled)
        self.blockSignals(False)
        self.setToolTip(status.text())

    @Slot(bool)
    def on_toggled(self, checked: bool) -> None:
        try:
            status = autostart.set_enabled(checked, self._backend)
        except OSError as exc:
            log.warning("start at login: %s", exc)
            self._show(autostart.status(self._backend))  # back to what is really there
            self.setToolTip(f"Could not change start at login: {exc}")
            return
        self._show(status)
