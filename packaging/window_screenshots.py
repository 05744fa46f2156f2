"""Render the window, its details pane and the export dialog offscreen from the real clients'
sample records (tests/data/real-clients/home) to docs/screenshots/.

    .venv/bin/python packaging/window_screenshots.py

The sample home is copied into a temporary directory and polled with the real sources and a
temporary store. The session that ran /compact has its transcript written back line by line, with
a poll after each chunk, so the chart shows the curve the store recorded. Two sessions are live by
the process table psutil recorded while the real clients ran (tests/data/real-clients/live).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def _wait(app: object, done: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path[:0] = [str(ROOT / "app"), str(ROOT / "tests")]
    from PySide6.QtWidgets import QApplication

    from llm_session_manager.config import Config
    from llm_session_manager.core.requests import ProjectRequest, TagRequest
    from llm_session_manager.paths import AppPaths
    from llm_session_manager.store.repo import Store
    from llm_session_manager.ui.main_window import MainWindow
    from llm_session_manager.ui.worker import PollerHost
    from window_facts import (
        CODEX_LIVE,
        COMPACTED,
        MOCK_SESSION,
        StepClock,
        replay,
        sample_poller,
        transcript_of,
    )

    app = QApplication.instance() or QApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(ROOT / "tests" / "data" / "real-clients" / "home", home, symlinks=True)
        store = Store.open(Path(tmp) / "sessions.db")
        transcript = transcript_of(home, COMPACTED)
        clock = StepClock(datetime.now(UTC) - timedelta(minutes=40))
        poller = sample_poller(home, store, clock=clock)

        def poll() -> None:
            poller.poll_once()
            clock.advance(3)

        replay(transcript, poll, steps=12)
        clock.now = datetime.now(UTC)
        host = PollerHost(poller, 600_000)
        window = MainWindow(host, Config(), AppPaths.under(Path(tmp) / "data"))
        host.worker.snapshot_ready.connect(window.on_snapshot)
        host.start()
        try:
            _wait(app, lambda: window.model.rowCount() > 0)
            requests = (
                TagRequest(COMPACTED, ("backend",)),
                TagRequest(MOCK_SESSION, ("demo",)),
                TagRequest(CODEX_LIVE, ("backend", "ci")),
                ProjectRequest(CODEX_LIVE, "web.app_v3"),  # the last: done means all are done
            )
            for request in requests:
                host.request_requested.emit(request)

            def renamed() -> bool:
                session = window.model.session(CODEX_LIVE)
                return session is not None and session.project == "web.app_v3"

            _wait(app, renamed)
            window.resize(1280, 860)
            window.show()
            window.show_session(COMPACTED)
            _wait(app, lambda: len(window.details.chart.series.points) >= 5)
            window.grab().save(str(OUT / "window.png"))
            window.details.grab().save(str(OUT / "details.png"))
            window.show_export()
            dialog = window.export_dialog
            assert dialog is not None
            _wait(app, lambda: "# Session report" in dialog.preview.toPlainText())
            dialog.grab().save(str(OUT / "export-dialog.png"))
        finally:
            host.shutdown()
            store.close()
    for name in ("window.png", "details.png", "export-dialog.png"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
