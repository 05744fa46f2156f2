"""Render the README's screenshots offscreen from the bundled samples (resources/samples/).

    .venv/bin/python packaging/make_screenshots.py      # writes docs/screenshots/*.png

The samples are copied into a temporary home and polled with the real sources, so the pictures
show what the app shows for those records; rerun after changing the window and commit the output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, str(ROOT / "app"))
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication

    from llm_session_manager.config import load_config
    from llm_session_manager.core.poller import build_poller
    from llm_session_manager.paths import AppPaths
    from llm_session_manager.selftest import copy_samples
    from llm_session_manager.ui.icons import level_pixmap
    from llm_session_manager.ui.main_window import MainWindow
    from llm_session_manager.ui.worker import PollerHost

    app = QApplication.instance() or QApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = copy_samples(Path(tmp) / "home")
        paths = AppPaths.under(Path(tmp) / "data")
        paths.data_dir.mkdir(parents=True)
        config, _ = load_config(paths.config_file)
        poller = build_poller(paths, config, {}, home)
        host = PollerHost(poller, 60_000)
        snapshot = poller.poll_once()
        window = MainWindow(host, config, paths)
        window.resize(1180, 700)
        window.on_snapshot(snapshot)
        window.show()
        app.processEvents()
        busiest = max(snapshot.sessions, key=lambda s: s.facts.usage.total)
        window.select_session(busiest.key)
        app.processEvents()
        window.grab().save(str(OUT / "main-window.png"))
        window.close()
        if poller.store is not None:
            poller.store.close()

    levels = [("healthy", False), ("warning", False), ("critical", False), ("idle", False),
              ("healthy", True)]
    size, gap = 32, 16
    strip = QPixmap(len(levels) * (size + gap) + gap, size + 2 * gap)
    strip.fill(QColor("#3c3c3c"))
    painter = QPainter(strip)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for i, (level, waiting) in enumerate(levels):
        painter.drawPixmap(gap + i * (size + gap), gap, level_pixmap(level, waiting, size))
    painter.end()
    strip.save(str(OUT / "tray-icons.png"))
    for name in ("main-window.png", "tray-icons.png"):
        print(f"wrote docs/screenshots/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
