"""The self-test's window step: build the main window, give it one snapshot, draw it offscreen.

Kept in ui/ because it is the only part of `--self-test` that needs Qt; `selftest.py` sets
QT_QPA_PLATFORM=offscreen before it imports this module.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from llm_session_manager.config import Config
from llm_session_manager.core.poller import Poller
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.worker import PollerHost


def render_main_window(poller: Poller, config: Config, paths: AppPaths) -> tuple[int, int, int]:
    """Poll once, render the window; returns (width, height, table rows)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # The window sends its commands through a host; its thread is never started here.
    host = PollerHost(poller, 60_000)
    try:
        snapshot = poller.poll_once()
        window = MainWindow(host, config, paths)
        window.on_snapshot(snapshot)
        window.show()
        app.processEvents()
        image = window.grab().toImage()
        rows = window.model.rowCount()
        window.close()
        window.deleteLater()
        app.processEvents()
    finally:
        host.shutdown()
    return (0, 0, rows) if image.isNull() else (image.width(), image.height(), rows)
