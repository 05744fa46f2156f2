"""The window's dialogs: Settings and Import are made once and kept, Export anew per session.

What they ask for goes out through `send` (the window's bound `send_request`, so it runs in the
GUI thread); their outcomes come back through `route`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtWidgets import QWidget

from llm_session_manager.config import Config
from llm_session_manager.core.models import Problem, SessionKey
from llm_session_manager.core.requests import Outcome, Request
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.export_dialog import ExportDialog
from llm_session_manager.ui.import_dialog import ImportDialog
from llm_session_manager.ui.settings_dialog import SettingsDialog


class WindowDialogs:
    def __init__(self, parent: QWidget, paths: AppPaths, send: Callable[[Request], None]) -> None:
        self._parent = parent
        self._paths = paths
        self._send = send
        self.export: ExportDialog | None = None
        self.import_: ImportDialog | None = None
        self.settings: SettingsDialog | None = None

    def show_settings(self, config: Config, problems: Sequence[Problem]) -> None:
        if self.settings is None:
            self.settings = SettingsDialog(
                config, self._paths, problems,
                file_exists=self._paths.config_file.exists(), parent=self._parent,
            )
        self.settings.show()
        self.settings.raise_()
        self.settings.activateWindow()

    def set_config(self, config: Config, problems: Sequence[Problem]) -> None:
        if self.settings is not None:
            self.settings.set_config(config, problems)

    def show_export(self, key: SessionKey) -> None:
        if self.export is not None:
            self.export.close()
        self.export = ExportDialog(key, Path.home(), self._parent)
        self.export.request_made.connect(self._send)
        self.export.show()
        self.export.ask_preview()

    def show_import(self) -> None:
        if self.import_ is None:
            self.import_ = ImportDialog(str(Path.home()), self._parent)
            self.import_.request_made.connect(self._send)
        self.import_.show()
        self.import_.raise_()

    def route(self, outcome: Outcome) -> bool:
        """Hand an outcome to the dialog that asked for it; False when none did."""
        for owner in (self.export, self.import_):
            if owner is not None and owner.wants(outcome):
                owner.on_outcome(outcome)
                return True
        return False
