"""The window as the user left it: its geometry, the table/details split, the table's columns
(widths, order, sort) and whether the "still in the tray" notice was given.

Kept in `<data_dir>/window.ini` (QSettings in IniFormat), not in the database: the GUI thread
owns this file and only this file, while the database belongs to the poller thread. Restoring
is tolerant: a missing, unreadable or corrupt file, or a value Qt refuses, leaves the defaults.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView

log = logging.getLogger(__name__)

WINDOW_FILE = "window.ini"
# Bumped when the table's columns change meaning: a header saved for other columns is dropped
# (Qt would restore widths and order onto the wrong columns).
LAYOUT_VERSION = 1

_GEOMETRY = "window/geometry"
_SPLITTER = "window/splitter"
_HEADER = "table/header"
_COLUMNS = "table/columns"
_VERSION = "table/layout"
_TOLD_TRAY = "tray/told"


class WindowState:
    def __init__(self, path: Path) -> None:
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)
        if self._settings.status() != QSettings.Status.NoError:
            log.warning("%s could not be read (%s): the window opens as by default",
                        path, self._settings.status().name)

    @property
    def path(self) -> str:
        return self._settings.fileName()

    # -- the tray notice --------------------------------------------------------------

    @property
    def told_tray(self) -> bool:
        value = self._settings.value(_TOLD_TRAY, False)
        # IniFormat keeps no types: "true" may come back as a string.
        return value is True or str(value).strip().lower() == "true"

    def set_told_tray(self) -> None:
        self._settings.setValue(_TOLD_TRAY, True)
        self._sync()

    # -- the layout -------------------------------------------------------------------

    def restore(self, window: QMainWindow, splitter: QSplitter, table: QTableView) -> None:
        """Apply what was saved; what is missing or refused keeps its default."""
        geometry = self._bytes(_GEOMETRY)
        if geometry is not None and not window.restoreGeometry(geometry):
            log.info("saved window geometry not usable: default size")
        sizes = self._bytes(_SPLITTER)
        if sizes is not None and not splitter.restoreState(sizes):
            log.info("saved splitter sizes not usable: default split")
        header = table.horizontalHeader()
        state = self._bytes(_HEADER)
        if state is None or not self._same_columns(header.count()):
            return
        # The header signals its restored sort indicator, and the sorting view follows it.
        if not header.restoreState(state):
            log.info("saved table columns not usable: default columns")

    def save(self, window: QMainWindow, splitter: QSplitter, table: QTableView) -> None:
        header = table.horizontalHeader()
        self._settings.setValue(_GEOMETRY, window.saveGeometry())
        self._settings.setValue(_SPLITTER, splitter.saveState())
        self._settings.setValue(_HEADER, header.saveState())
        self._settings.setValue(_COLUMNS, header.count())
        self._settings.setValue(_VERSION, LAYOUT_VERSION)
        self._sync()

    def _same_columns(self, count: int) -> bool:
        return (_int(self._settings.value(_COLUMNS)) == count
                and _int(self._settings.value(_VERSION)) == LAYOUT_VERSION)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        if isinstance(value, QByteArray) and not value.isEmpty():
            return value
        if isinstance(value, bytes) and value:
            return QByteArray(value)
        return None  # missing, or text where bytes belong (a hand-edited or corrupt file)

    def _sync(self) -> None:
        self._settings.sync()
        if self._settings.status() == QSettings.Status.AccessError:
            log.warning("cannot write %s: the window's layout is not kept", self.path)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
