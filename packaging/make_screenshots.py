"""Render the README's tray picture offscreen: the icon at every level, on a dark panel.

    .venv/bin/python packaging/make_screenshots.py      # writes docs/screenshots/tray-icons.png

The window, its details pane and the export dialog come from packaging/window_screenshots.py,
which polls the real clients' records; rerun both after changing the UI and commit the output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, str(ROOT / "app"))
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication

    from llm_session_manager.ui.icons import level_pixmap

    app = QApplication.instance() or QApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
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
    print("wrote docs/screenshots/tray-icons.png")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
