"""The effective settings (defaults merged with the user's file), where the file is, and what is
wrong in it. Editing happens in the user's own editor: the app watches the file and reloads it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from llm_session_manager.config import Config, config_to_dict
from llm_session_manager.core.models import Problem
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.start_at_login import StartAtLoginBox


def effective_yaml(config: Config) -> str:
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True)


class SettingsDialog(QDialog):
    def __init__(
        self,
        config: Config,
        paths: AppPaths,
        problems: Sequence[Problem] = (),
        *,
        file_exists: bool = False,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(640, 600)
        self._paths = paths
        where = "" if file_exists else " (absent: the defaults apply; `init-config` writes one)"
        self.location = QLabel(f"Config file: {paths.config_file}{where}", self)
        self.location.setWordWrap(True)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c62828;")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.open_button = QPushButton("Open the config file", self)
        self.open_button.setEnabled(file_exists)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.location)
        layout.addWidget(self.problems)
        layout.addWidget(QLabel("Effective settings:", self))
        layout.addWidget(self.text, 1)
        self.start_at_login = StartAtLoginBox(self)  # written at once, not on the file's reload
        layout.addWidget(self.start_at_login)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self.open_file)
        self.set_config(config, problems)

    def set_config(self, config: Config, problems: Sequence[Problem] = ()) -> None:
        self.text.setPlainText(effective_yaml(config))
        if problems:
            lines = [f"{p.where}: {p.message}" for p in problems]
            self.problems.setText("Problems in the config:\n" + "\n".join(lines))
            self.problems.show()
        else:
            self.problems.hide()

    @Slot()
    def open_file(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._paths.config_file)))
