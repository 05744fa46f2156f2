"""Export one session: format, file, redaction, and a preview of the Markdown report.

The dialog only asks: it emits requests (PreviewRequest for the preview, ExportRequest for the
file), the worker runs them, and the window hands each Outcome back through `on_outcome`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.requests import ExportRequest, Outcome, PreviewRequest

FORMATS = (("Markdown (.md)", "markdown", ".md"), ("JSON (.json)", "json", ".json"),
           ("YAML (.yaml)", "yaml", ".yaml"))


class ExportDialog(QDialog):
    request_made = Signal(object)  # PreviewRequest | ExportRequest

    def __init__(self, key: SessionKey, directory: Path, parent: Any = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setWindowTitle(f"Export {key.agent}:{key.session_id[:8]}")
        self.resize(720, 560)
        self.format = QComboBox(self)
        for label, value, _ in FORMATS:
            self.format.addItem(label, value)
        self.path = QLineEdit(str(directory / f"session-{key.session_id[:8]}.md"), self)
        self.browse = QPushButton("Choose…", self)
        self.redact = QCheckBox("Redact secrets (keys, tokens, passwords, e-mail addresses)", self)
        self.redact.setChecked(True)
        self.preview = QPlainTextEdit(self)
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setPlaceholderText("Loading the preview…")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", path_row)
        form.addRow("", self.redact)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Preview (Markdown, with the continuation brief):", self))
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self._preview_pending: PreviewRequest | None = None
        self._export_pending: ExportRequest | None = None
        self.format.currentIndexChanged.connect(self._format_changed)
        self.browse.clicked.connect(self._choose_file)
        self.redact.toggled.connect(self.ask_preview)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)

    @Slot()
    def ask_preview(self) -> None:
        self._preview_pending = PreviewRequest(self.key, redact=self.redact.isChecked())
        self.preview.clear()
        self.request_made.emit(self._preview_pending)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    @Slot()
    def export(self) -> None:
        path = self.path.text().strip()
        if not path:
            self._say("Choose a file to export to.", error=True)
            return
        self._export_pending = ExportRequest(
            self.key, str(Path(path).expanduser()), self.chosen_format(), self.redact.isChecked()
        )
        self.export_button.setEnabled(False)
        self._say("Exporting…")
        self.request_made.emit(self._export_pending)

    def wants(self, outcome: Outcome) -> bool:
        return outcome.request in (self._preview_pending, self._export_pending)

    def on_outcome(self, outcome: Outcome) -> None:
        if outcome.request == self._preview_pending and self._preview_pending is not None:
            self._preview_pending = None
            if outcome.ok and isinstance(outcome.payload, str):
                self.preview.setPlainText(outcome.payload)
            else:
                self.preview.setPlainText(f"No preview: {outcome.message}")
        elif outcome.request == self._export_pending and self._export_pending is not None:
            self._export_pending = None
            self.export_button.setEnabled(True)
            if outcome.ok:
                self._say(outcome.message or "Exported.")
                self.accept()
            else:
                self._say(outcome.message, error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)

    @Slot()
    def _format_changed(self) -> None:
        suffix = FORMATS[self.format.currentIndex()][2]
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix(suffix)))

    @Slot()
    def _choose_file(self) -> None:
        suffix = FORMATS[self.format.currentIndex()][2]
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), f"{self.format.currentText()};;All files (*)"
        )
        if chosen:
            self.path.setText(chosen if Path(chosen).suffix else chosen + suffix)
