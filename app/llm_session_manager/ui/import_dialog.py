"""Import a session exported elsewhere (JSON or YAML); a failure stays in the dialog, naming the
field the importer rejected, so the user can fix the file and try again."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from llm_session_manager.core.requests import ImportRequest, Outcome


class ImportDialog(QDialog):
    request_made = Signal(object)  # ImportRequest

    def __init__(self, directory: str = "", parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a session")
        self.resize(560, 200)
        self._directory = directory
        self.path = QLineEdit(self)
        self.path.setPlaceholderText("an exported session (.json or .yaml)")
        self.browse = QPushButton("Choose…", self)
        self.session_id = QLineEdit(self)
        self.session_id.setPlaceholderText("keep the file's id")
        self.overwrite = QCheckBox("Replace a session with the same id", self)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Session id", self.session_id)
        form.addRow("", self.overwrite)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._pending: ImportRequest | None = None
        self.browse.clicked.connect(self._choose_file)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    @Slot()
    def submit(self) -> None:
        path = self.path.text().strip()
        if not path:
            self.show_error("Choose a file to import.")
            return
        self._pending = ImportRequest(
            path, self.session_id.text().strip() or None, self.overwrite.isChecked()
        )
        self.error.hide()
        self.import_button.setEnabled(False)
        self.request_made.emit(self._pending)

    def wants(self, outcome: Outcome) -> bool:
        return self._pending is not None and outcome.request == self._pending

    def on_outcome(self, outcome: Outcome) -> None:
        if not self.wants(outcome):
            return
        self._pending = None
        self.import_button.setEnabled(True)
        if outcome.ok:
            self.accept()
        else:
            self.show_error(outcome.message)

    def show_error(self, text: str) -> None:
        self.error.setText(f"Cannot import: {text}")
        self.error.show()

    @Slot()
    def _choose_file(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Import a session", self._directory,
            "Exported sessions (*.json *.yaml *.yml);;All files (*)",
        )
        if chosen:
            self.path.setText(chosen)
