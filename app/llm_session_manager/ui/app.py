"""The tray app: one poller thread, the tray icon, notifications and the main window.

`run_app` is what `llm-session-manager` (no command) and `monitor` start. The store is opened and
migrated here on the main thread before the poller thread starts; after that only the poller
thread touches it. Everything in the GUI thread is wired in `TrayApp`, with bound methods only.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from llm_session_manager.config import Config
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.models import Problem, SessionKey, Snapshot
from llm_session_manager.core.poller import Poller, build_poller
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.config_watcher import ConfigWatcher
from llm_session_manager.ui.dbus_notifications import NotificationBus
from llm_session_manager.ui.notifications import Notifier
from llm_session_manager.ui.single_instance import (
    InstanceServer,
    ask_running_instance,
    instance_name,
)
from llm_session_manager.ui.theme import apply_theme
from llm_session_manager.ui.tray import TrayController
from llm_session_manager.ui.worker import PollerHost

log = logging.getLogger(__name__)

APP_NAME = "llm-session-manager"
DESKTOP_FILE = "llm-session-manager"  # resources/linux/llm-session-manager.desktop
# Python runs its signal handlers only between bytecodes; while Qt's loop waits in C++ none run.
# A cheap timer hands control back to Python so Ctrl+C / SIGTERM quit cleanly (aw-qt's approach).
SIGNAL_WAKE_MS = 250
NO_TRAY = (
    "No system tray was found, so the window stays open: closing it quits the app. "
    "The tray icon appears by itself if a tray starts later."
)


class WindowLike(Protocol):
    """What the app needs of the main window (ui/main_window.py's MainWindow)."""

    def on_snapshot(self, snapshot: Snapshot) -> None: ...
    def show_session(self, key: SessionKey) -> None: ...
    def show_and_raise(self) -> None: ...
    def show_settings(self) -> None: ...
    def show_notice(self, text: str) -> None: ...
    def set_config(self, config: Config, problems: Sequence[Problem] = ()) -> None: ...
    def prepare_to_quit(self) -> None: ...

    # Signal(): emitted the first time the user closes the window while the tray keeps the app.
    hidden_to_tray: Any


WindowFactory = Callable[[PollerHost, Config, AppPaths], WindowLike]


class TrayApp(QObject):
    """Owns the poller host, the tray, the notifier, the window and the config watcher."""

    def __init__(
        self,
        app: QApplication,
        paths: AppPaths,
        config: Config,
        config_problems: Sequence[Problem],
        poller: Poller,
        window_factory: WindowFactory,
        *,
        open_window: bool,
        interval_s: float | None = None,
    ) -> None:
        super().__init__()
        self._app = app
        self.config = config
        self._interval_override = interval_s
        store = poller.store
        self.host = PollerHost(
            poller, self._interval_ms(), self, on_stop=store.close if store else None
        )
        self.tray = TrayController(self)
        self.tray.set_quiet_hours(config.ui.quiet_hours)
        self.notifier = Notifier(self.tray.icon, self, NotificationBus.open())
        self.notifier.set_enabled(config.ui.notifications)
        self.window = window_factory(self.host, config, paths)
        self.watcher = ConfigWatcher(paths.config_file, self)
        self._connect()
        self.tray.show()
        tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        for problem in config_problems:
            self.window.show_notice(f"{problem.where}: {problem.message}")
        if not tray_available:
            log.warning("no system tray available: showing the window instead")
            # Without a tray a hidden window could never be reached again: closing it quits.
            app.setQuitOnLastWindowClosed(True)
            self.window.show_notice(NO_TRAY)
        if open_window or not tray_available:
            self.window.show_and_raise()

    def _interval_ms(self) -> int:
        seconds = self._interval_override or self.config.poll_interval_s
        return max(250, int(seconds * 1000))

    def _connect(self) -> None:
        worker, tray, window = self.host.worker, self.tray, self.window
        # Worker signals go to bound methods of GUI-thread objects only (queued across threads).
        worker.snapshot_ready.connect(tray.on_snapshot)
        worker.snapshot_ready.connect(window.on_snapshot)
        worker.notices_ready.connect(self.notifier.on_notices)
        tray.open_requested.connect(self.open_window)
        tray.session_requested.connect(self.open_session)
        tray.refresh_requested.connect(self.host.refresh_requested)
        tray.pause_requested.connect(self.host.notifications_pause_requested)
        tray.settings_requested.connect(self.open_settings)
        tray.quit_requested.connect(self.quit)
        window.hidden_to_tray.connect(self.on_hidden_to_tray)
        self.notifier.session_requested.connect(self.open_session)
        self.notifier.open_requested.connect(self.open_window)
        self.watcher.config_reloaded.connect(self.on_config_reloaded)
        self._app.aboutToQuit.connect(self.shutdown)

    def start(self) -> None:
        self.host.start()

    # -- what the user asked for --------------------------------------------------------------

    @Slot()
    def open_window(self) -> None:
        self.window.show_and_raise()

    @Slot(object)
    def open_session(self, key: SessionKey) -> None:
        self.window.show_session(key)

    @Slot()
    def open_settings(self) -> None:
        self.window.show_settings()

    @Slot(object, object)
    def on_config_reloaded(self, config: Config, problems: Sequence[Problem]) -> None:
        self.config = config
        self.notifier.set_enabled(config.ui.notifications)
        self.tray.set_quiet_hours(config.ui.quiet_hours)
        apply_theme(self._app, config.ui.theme)
        if self._interval_override:  # `monitor --interval` wins over the file
            config = replace(config, poll_interval_s=self._interval_override)
        self.host.config_changed.emit(config)
        self.window.set_config(config, problems)
        for problem in problems:
            self.window.show_notice(f"{problem.where}: {problem.message}")

    @Slot()
    def on_hidden_to_tray(self) -> None:
        self.notifier.tell(
            "LLM Session Manager is still running",
            "It keeps watching your sessions from the tray; Quit is in the tray menu.",
        )

    @Slot()
    def quit(self) -> None:
        self.window.prepare_to_quit()
        self._app.quit()

    @Slot()
    def shutdown(self) -> None:
        self.watcher.deleteLater()
        self.tray.hide()
        self.host.shutdown()


def _open_poller(paths: AppPaths, config: Config) -> tuple[Poller, str | None]:
    """The poller with its store; without one (and the reason) when the store cannot open."""
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return build_poller(paths, config, os.environ, Path.home()), None
    except StoreError as exc:
        # Polling goes on without persistence; the window says why.
        log.warning("store unavailable, running without it: %s", exc)
        from llm_session_manager.core.sources.registry import build_sources
        from llm_session_manager.core.tokens import count_tokens

        sources = build_sources(config, os.environ, Path.home(), count_tokens=count_tokens)
        return Poller(sources, None, config), f"Sessions are not saved: {exc}"


def _quit_on_signals(app: QApplication) -> QTimer:
    def handle(signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        app.quit()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    timer = QTimer(app)
    timer.timeout.connect(_wake)
    timer.start(SIGNAL_WAKE_MS)
    return timer


def _wake() -> None:
    """Nothing to do: returning to Python is the point (see SIGNAL_WAKE_MS)."""


def run_app(
    paths: AppPaths,
    config: Config,
    config_problems: Sequence[Problem],
    *,
    open_window: bool,
    interval_s: float | None = None,
) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setQuitOnLastWindowClosed(False)  # closing the window keeps the app in the tray
    apply_theme(app, config.ui.theme)

    name = instance_name(paths.data_dir)
    if ask_running_instance(name):
        print("LLM Session Manager is already running: its window was brought forward.")
        return 0
    server = InstanceServer(name)
    server.listen()

    from llm_session_manager.ui.main_window import MainWindow

    poller, store_problem = _open_poller(paths, config)
    problems = list(config_problems)
    if store_problem:
        problems.append(Problem(str(paths.db_path), store_problem))
    tray_app = TrayApp(
        app, paths, config, problems, poller, MainWindow,
        open_window=open_window, interval_s=interval_s,
    )
    server.activation_requested.connect(tray_app.open_window)
    _quit_on_signals(app)
    tray_app.start()
    try:
        return app.exec()
    finally:
        server.close()
        # Delete the Qt objects in order now, not in the interpreter's final garbage collection:
        # there, PySide6 crashed (SIGABRT, "bool_dealloc") after the D-Bus tray icon was used.
        window = tray_app.window
        del tray_app
        if isinstance(window, QObject):
            shiboken6.delete(window)
        del window
        app.shutdown()
