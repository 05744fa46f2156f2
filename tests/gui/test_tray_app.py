"""TrayApp wiring offscreen: real poller thread over the sample home, a stand-in window.

The stand-in records what the app asked of the window (the agreed MainWindow interface); the
real window has its own tests. Offscreen has no tray, so the app must open the window and say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication

from llm_session_manager.config import Config, load_config
from llm_session_manager.core.models import Problem, SessionKey, Snapshot
from llm_session_manager.core.notify import Notice
from llm_session_manager.paths import AppPaths
from llm_session_manager.ui.app import NO_TRAY, TrayApp, _open_poller
from llm_session_manager.ui.single_instance import (
    InstanceServer,
    ask_running_instance,
    instance_name,
)


class StandInWindow(QObject):
    snapshot_seen = Signal()
    hidden_to_tray = Signal()

    def __init__(self, host, config: Config, paths: AppPaths) -> None:
        super().__init__()
        self.calls: list[tuple[str, object]] = []
        self.snapshots: list[Snapshot] = []
        self.thread_of_snapshot: QThread | None = None

    @Slot(object)
    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.thread_of_snapshot = QThread.currentThread()
        self.snapshots.append(snapshot)
        self.snapshot_seen.emit()

    def show_session(self, key: SessionKey) -> None:
        self.calls.append(("show_session", key))

    def show_and_raise(self) -> None:
        self.calls.append(("show_and_raise", None))

    def show_settings(self) -> None:
        self.calls.append(("show_settings", None))

    def show_notice(self, text: str) -> None:
        self.calls.append(("show_notice", text))

    def set_config(self, config: Config, problems=()) -> None:
        self.calls.append(("set_config", config))

    def prepare_to_quit(self) -> None:
        self.calls.append(("prepare_to_quit", None))


@pytest.fixture
def tray_app(qtbot, cli_env: Path, monkeypatch: pytest.MonkeyPatch):
    # Without a session bus the notifier uses the tray icon (tests/gui/test_dbus_notifications.py
    # covers the D-Bus path), so no test sends a popup to the desktop it runs on.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    paths = AppPaths.under(cli_env)
    paths.config_file.write_text("poll_interval_s: 0.5\n", encoding="utf-8")
    config, problems = load_config(paths.config_file)
    poller, store_problem = _open_poller(paths, config)
    assert store_problem is None
    made = TrayApp(
        app, paths, config, [Problem("config.yaml:3", "bad key"), *problems], poller,
        StandInWindow, open_window=False,
    )
    yield made
    made.shutdown()
    app.setQuitOnLastWindowClosed(True)


def test_without_a_tray_the_window_opens_and_says_why(tray_app) -> None:
    calls = tray_app.window.calls
    assert ("show_notice", "config.yaml:3: bad key") in calls
    assert ("show_notice", NO_TRAY) in calls
    assert calls[-1] == ("show_and_raise", None)
    assert QApplication.instance().quitOnLastWindowClosed()


def test_snapshots_reach_tray_and_window_in_the_gui_thread(qtbot, tray_app) -> None:
    window = tray_app.window
    with qtbot.waitSignal(window.snapshot_seen, timeout=10_000):
        tray_app.start()
    assert window.thread_of_snapshot is QApplication.instance().thread()
    qtbot.waitUntil(lambda: tray_app.tray.state.tooltip.startswith("LLM Session Manager — 0 live"))
    assert window.snapshots[0].sessions
    assert tray_app.shutdown() is None and not tray_app.host.running


def test_tray_and_notification_clicks_reach_the_window(qtbot, tray_app) -> None:
    key = SessionKey("claude-code", "984fb08c-2335-4d98-8a9a-ba9fc10c3c14")
    window = tray_app.window
    tray_app.tray.open_requested.emit()
    tray_app.tray.settings_requested.emit()
    tray_app.tray.session_requested.emit(key)
    tray_app.notifier.on_notices((Notice(key, "critical", "myapp is critical", "why"),))
    tray_app.tray.icon.messageClicked.emit()
    assert window.calls[-4:] == [
        ("show_and_raise", None), ("show_settings", None),
        ("show_session", key), ("show_session", key),
    ]


def test_config_file_change_reloads_the_config(qtbot, tray_app, cli_env: Path) -> None:
    with qtbot.waitSignal(tray_app.host.config_changed, timeout=5000) as blocker:
        (cli_env / "config.yaml").write_text("poll_interval_s: 2\n", encoding="utf-8")
    assert blocker.args[0].poll_interval_s == 2
    assert tray_app.config.poll_interval_s == 2
    assert tray_app.window.calls[-1] == ("set_config", blocker.args[0])


def test_config_replaced_by_rename_reloads_too(qtbot, tray_app, cli_env: Path) -> None:
    tmp = cli_env / ".config.yaml.tmp"
    tmp.write_text("poll_interval_s: 3\nui:\n  notifications: false\n", encoding="utf-8")
    with qtbot.waitSignal(tray_app.host.config_changed, timeout=5000) as blocker:
        tmp.replace(cli_env / "config.yaml")
    assert blocker.args[0].ui.notifications is False


def test_a_reload_applies_the_notification_rules(qtbot, tray_app, cli_env: Path) -> None:
    text = "ui:\n  notify_on: [waiting]\n  quiet_hours: '00:00-23:59'\n"
    with qtbot.waitSignal(tray_app.host.config_changed, timeout=5000) as blocker:
        (cli_env / "config.yaml").write_text(text, encoding="utf-8")
    rules = blocker.args[0].ui
    assert rules.notify_on == ("waiting",)
    assert rules.quiet_hours is not None
    # the poller thread's planner reads the same config; the tray shows the quiet hours
    tray_app.tray.menu.aboutToShow.emit()
    assert any(a.text().startswith("Quiet hours ") for a in tray_app.tray.actions())


def test_second_instance_is_sent_to_the_first(qtbot, tmp_path: Path) -> None:
    name = instance_name(tmp_path / "a")
    assert name != instance_name(tmp_path / "b")
    assert name == instance_name(tmp_path / "a")
    assert not ask_running_instance(name)
    server = InstanceServer(name)
    assert server.listen()
    try:
        with qtbot.waitSignal(server.activation_requested, timeout=5000):
            assert ask_running_instance(name)
    finally:
        server.close()
    assert not ask_running_instance(name)


def test_first_close_says_the_app_stays_in_the_tray(qtbot, tray_app) -> None:
    tray_app.window.hidden_to_tray.emit()
    message = tray_app.notifier.last_message
    assert message is not None and message.key is None
    assert message.title == "LLM Session Manager is still running"
    with qtbot.waitSignal(tray_app.notifier.open_requested):
        tray_app.tray.icon.messageClicked.emit()


def test_the_real_main_window_has_the_agreed_interface() -> None:
    from llm_session_manager.ui.app import WindowLike
    from llm_session_manager.ui.main_window import MainWindow

    wanted = [n for n in WindowLike.__dict__ if not n.startswith("_")] + ["hidden_to_tray"]
    assert "show_session" in wanted
    assert [n for n in wanted if not hasattr(MainWindow, n)] == []
