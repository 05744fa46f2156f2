"""Export, import and settings dialogs against the real worker (export, import and preview are
run by core.actions in the poller thread) over a temporary store and the sample home."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from llm_session_manager.config import Config
from llm_session_manager.core.models import Problem
from llm_session_manager.core.requests import ExportRequest, ImportRequest, PreviewRequest
from llm_session_manager.paths import AppPaths
from llm_session_manager.store.repo import Store
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.settings_dialog import SettingsDialog
from llm_session_manager.ui.worker import PollerHost
from window_facts import COMPACTED, sample_poller


@pytest.fixture
def window(qtbot, tmp_path: Path, sample_home: Path) -> Iterator[MainWindow]:
    store = Store.open(tmp_path / "sessions.db")
    host = PollerHost(sample_poller(sample_home, store), 600_000)
    window = MainWindow(host, Config(), AppPaths.under(tmp_path / "app"))
    qtbot.addWidget(window)
    host.worker.snapshot_ready.connect(window.on_snapshot)
    host.start()
    qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=10_000)
    yield window
    assert host.shutdown()
    store.close()


def test_export_dialog_previews_and_exports(qtbot, window: MainWindow, tmp_path: Path) -> None:
    window.show_session(COMPACTED)
    sent: list[object] = []
    window._host.request_requested.connect(sent.append)
    with qtbot.waitActive(window):
        window.show_and_raise()
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    assert sent == [PreviewRequest(COMPACTED, redact=True)]
    qtbot.waitUntil(lambda: "# Session report" in dialog.preview.toPlainText(), timeout=10_000)
    assert "## Continuation brief" in dialog.preview.toPlainText()

    dialog.format.setCurrentIndex(dialog.format.findData("json"))
    target = tmp_path / "out" / "brief.json"
    target.parent.mkdir()
    dialog.path.setText(str(target))
    dialog.redact.setChecked(False)  # asks a new, unredacted preview
    assert sent[-1] == PreviewRequest(COMPACTED, redact=False)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert sent[-1] == ExportRequest(COMPACTED, str(target), "json", False)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    document = json.loads(target.read_text())
    assert document["session"]["session_id"] == COMPACTED.session_id


def test_export_format_changes_the_extension(qtbot, window: MainWindow) -> None:
    window.show_session(COMPACTED)
    window.show_export()
    dialog = window.export_dialog
    assert dialog is not None
    assert dialog.path.text().endswith("session-81c214e6.md")
    dialog.format.setCurrentIndex(dialog.format.findData("yaml"))
    assert dialog.path.text().endswith("session-81c214e6.yaml")


def test_import_dialog_shows_the_validation_error(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    exported = tmp_path / "good.json"
    window._host.request_requested.emit(ExportRequest(COMPACTED, str(exported), "json"))
    qtbot.waitUntil(exported.exists, timeout=10_000)
    broken = json.loads(exported.read_text())
    broken["schema_version"] = 99
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))

    window.show_import()
    dialog = window.import_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.path.setText(str(bad))
    dialog.session_id.setText("copy-1")
    sent: list[object] = []
    window._host.request_requested.connect(sent.append)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert sent == [ImportRequest(str(bad), "copy-1", False)]
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=10_000)
    assert "schema_version" in dialog.error.text()
    assert dialog.isVisible()  # the user can fix the file and try again
    assert dialog.import_button.isEnabled()


def test_settings_dialog_shows_the_effective_config(qtbot, tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    problem = Problem(f"{paths.config_file}:3", "poll_interval_s must be a number; using 5.0")
    dialog = SettingsDialog(Config(), paths, [problem], file_exists=False)
    qtbot.addWidget(dialog)
    assert str(paths.config_file) in dialog.location.text()
    assert "absent" in dialog.location.text()
    assert "poll_interval_s: 5.0" in dialog.text.toPlainText()
    assert "config.yaml:3: poll_interval_s must be a number" in dialog.problems.text()
    assert not dialog.open_button.isEnabled()
