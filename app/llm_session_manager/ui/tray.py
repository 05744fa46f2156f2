"""The tray icon and its menu. It decides nothing itself: `tray_state` does, from the snapshot.

The controller only says what the user asked for, by signal (open, a session, refresh, pause,
settings, quit); `ui/app.py` connects those to the window and the poller host. The menu is built
when it is about to show, from the latest snapshot kept in memory, so a poll never rebuilds it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from llm_session_manager.core.models import SessionKey, Snapshot
from llm_session_manager.core.quiet_hours import QuietHours
from llm_session_manager.ui.icons import level_icon
from llm_session_manager.ui.tray_state import (
    APP_TITLE,
    MenuEntry,
    PauseChoice,
    TrayState,
    pause_until,
    quiet_text,
    tray_state,
)

log = logging.getLogger(__name__)


def local_now() -> datetime:
    return datetime.now().astimezone()


class TrayController(QObject):
    open_requested = Signal()
    session_requested = Signal(object)  # SessionKey
    refresh_requested = Signal()
    pause_requested = Signal(object)  # datetime | None
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self, parent: QObject | None = None, *, clock: Callable[[], datetime] = local_now
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._paused_until: datetime | None = None
        self._quiet: QuietHours | None = None  # the config's; the planner applies them itself
        self._shown: tuple[str, bool] | None = None  # (level, waiting) of the current icon
        self.state = tray_state(None, None, clock())
        self.icon = QSystemTrayIcon(self)
        # Kept on self: a parentless menu held only by a local would be garbage-collected.
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self.on_activated)
        self._apply(self.state)

    # -- state ------------------------------------------------------------------------------

    @property
    def paused_until(self) -> datetime | None:
        return self._paused_until

    def set_quiet_hours(self, quiet: QuietHours | None) -> None:
        """The config's quiet hours, shown like a pause (at start-up and on each reload)."""
        self._quiet = quiet
        self._apply(self._state(self._clock()))

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._apply(self._state(self._clock()))

    def _state(self, now: datetime) -> TrayState:
        return tray_state(self._snapshot, self._paused_until, now, self._quiet)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def _apply(self, state: TrayState) -> None:
        self.state = state
        shown = (state.level, state.waiting)
        if shown != self._shown:  # setIcon re-sends the image to the tray host; do it on change
            self._shown = shown
            self.icon.setIcon(level_icon(state.level, state.waiting))
        if self.icon.toolTip() != state.tooltip:
            self.icon.setToolTip(state.tooltip)

    # -- menu -------------------------------------------------------------------------------

    @Slot()
    def rebuild_menu(self) -> None:
        now = self._clock()
        self.state = self._state(now)
        menu = self.menu
        menu.clear()
        for entry in self.state.attention:
            self._add_entry(entry)
        if self.state.attention:
            menu.addSeparator()
        menu.addAction(f"Open {APP_TITLE}", self.open_requested.emit)
        menu.addAction("Refresh now", self.refresh_requested.emit)
        pause = menu.addMenu("Pause notifications")
        paused = self._paused_until is not None and now < self._paused_until
        pause.addAction("For 1 hour", self.pause_for_hour)
        pause.addAction("Until tomorrow", self.pause_until_tomorrow)
        resume = pause.addAction("Resume", self.resume_notifications)
        resume.setEnabled(paused)
        quiet = quiet_text(self._quiet, now)
        if quiet is not None:  # a line to read, not a command: the config sets quiet hours
            pause.addSeparator()
            pause.addAction(quiet).setEnabled(False)
        menu.addAction("Settings…", self.settings_requested.emit)
        menu.addSeparator()
        menu.addAction("Quit", self.quit_requested.emit)

    def _add_entry(self, entry: MenuEntry) -> None:
        action = QAction(level_icon(entry.level, entry.waiting), entry.text, self.menu)
        action.setData(str(entry.key))
        action.triggered.connect(self.on_entry_triggered)
        self.menu.addAction(action)

    @Slot()
    def on_entry_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.session_requested.emit(SessionKey.parse(str(action.data())))

    def actions(self) -> list[QAction]:
        """The menu's actions as the user sees them (submenus flattened after their title)."""
        found: list[QAction] = []
        for action in self.menu.actions():
            found.append(action)
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                found.extend(submenu.actions())
        return found

    # -- pause ------------------------------------------------------------------------------

    @Slot()
    def pause_for_hour(self) -> None:
        self._pause("hour")

    @Slot()
    def pause_until_tomorrow(self) -> None:
        self._pause("tomorrow")

    @Slot()
    def resume_notifications(self) -> None:
        self._pause("resume")

    def _pause(self, choice: PauseChoice) -> None:
        now = self._clock()
        self._paused_until = pause_until(choice, now)
        log.info("notifications %s", "resumed" if self._paused_until is None
                 else f"paused until {self._paused_until:%Y-%m-%d %H:%M}")
        self.pause_requested.emit(self._paused_until)
        self._apply(self._state(now))

    # -- clicks -----------------------------------------------------------------------------

    @Slot(QSystemTrayIcon.ActivationReason)
    def on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # Left click and double click open the window; the context menu opens by itself.
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()
