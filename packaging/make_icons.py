"""Write the app icon files in resources/icons/ from the tray's own drawing (ui/icons.py).

The menu entry, the bundles and the window use the same green circle the tray shows when every
session is healthy. Run after changing ui/icons.py and commit the output:

    .venv/bin/python packaging/make_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"
NAME = "llm-session-manager"
PNG_SIZE = 256
ICO_SIZE = 64  # Qt's ico writer stores one image; 64 px reads well in Explorer and the taskbar

# The SVG mirrors ui/icons.py's geometry at 16 units: halo, dark ring, level fill.
SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 16 16">
  <circle cx="8" cy="8" r="7.5" fill="none"
          stroke="#ffffff" stroke-opacity="0.59" stroke-width="1"/>
  <circle cx="8" cy="8" r="6.5" fill="{fill}"
          stroke="#000000" stroke-opacity="0.67" stroke-width="1"/>
</svg>
"""


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT / "app"))
    from PySide6.QtGui import QGuiApplication

    from llm_session_manager.ui.icons import LEVEL_COLOURS, level_pixmap

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, size in ((".png", PNG_SIZE), (".ico", ICO_SIZE)):
        path = OUT / f"{NAME}{suffix}"
        if not level_pixmap("healthy", False, size).save(str(path)):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        written.append(path)
    svg = OUT / f"{NAME}.svg"
    svg.write_text(SVG.format(fill=LEVEL_COLOURS["healthy"]), encoding="utf-8")
    written.append(svg)
    del app
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
