"""Reloads the config when its file changes on disk.

Both the file and its folder are watched: editors save by writing a new file and renaming it over
the old one, which ends a watch on the file, and a file created after start-up shows only as a
change of its folder. Changes come in bursts (write, rename, chmod), so a short timer collects
them into one reload; an unchanged text reloads nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from llm_session_manager.config import load_config

log = logging.getLogger(__name__)

SETTLE_MS = 200


class ConfigWatcher(QObject):
    config_reloaded = Signal(object, object)  # Config, tuple[Problem, ...]

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._text = self._read()
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self.on_changed)
        self._watcher.directoryChanged.connect(self.on_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self.reload)
        self._watch()

    def _watch(self) -> None:
        # The config folder may not exist yet (nothing written there so far): watch the nearest
        # folder above it that does, so that creating it (`init-config`) is noticed too.
        nearest = self.path.parent
        while not nearest.exists() and nearest != nearest.parent:
            nearest = nearest.parent
        wanted = [str(p) for p in dict.fromkeys((self.path, self.path.parent, nearest))
                  if p.exists()]  # fmt: skip
        watched = set(self._watcher.files()) | set(self._watcher.directories())
        missing = [p for p in wanted if p not in watched]
        if missing:
            self._watcher.addPaths(missing)

    def _read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @Slot(str)
    def on_changed(self, _path: str) -> None:
        self._timer.start()

    @Slot()
    def reload(self) -> None:
        self._watch()  # the file may have been replaced or created
        text = self._read()
        if text == self._text:
            return
        self._text = text
        config, problems = load_config(self.path)
        log.info("config reloaded from %s (%d problems)", self.path, len(problems))
        self.config_reloaded.emit(config, tuple(problems))
