"""TrayController offscreen: icon changes, tooltip, the menu built from the snapshot, the signals.

Offscreen has no system tray (isSystemTrayAvailable() is False) but QSystemTrayIcon keeps its
icon, tooltip and menu, which is what the controller decides; a real tray is in tests/e2e.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSystemTrayIcon

from llm_session_manager.core.models import Snapshot
from llm_session_manager.core.quiet_hours import parse_quiet_hours
from llm_session_manager.ui.icons import LEVEL_COLOURS, WAITING_COLOUR
from llm_session_manager.ui.tray import TrayController
from tray_facts import fill_context, find, make_live, real_sessions, snapshot_of

NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


@pytest.fixture
def snapshots(sample_home: Path) -> dict[str, Snapshot]:
    sessions = real_sessions(sample_home, NOW)
    rest = [s for s in sessions if not s.key.session_id.startswith(("984fb08c", "24237997"))]
    green = make_live(find(sessions, "984fb08c"), NOW, "active")
    red = fill_context(green, NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    return {
        "idle": snapshot_of(sessions, NOW),
        "green": snapshot_of([green, *rest], NOW),
        "red": snapshot_of([red, waiting, *rest], NOW),
    }


@pytest.fixture
def tray(qtbot) -> TrayController:
    controller = TrayController(clock=lambda: NOW)
    yield controller
    controller.hide()


def _centre(tray: TrayController) -> str:
    image = tray.icon.icon().pixmap(32, 32).toImage()
    return QColor(image.pixel(16, 16)).name()


def _corner(tray: TrayController) -> str:
    image = tray.icon.icon().pixmap(32, 32).toImage()
    return QColor(image.pixel(25, 7)).name()  # the dot: 42% of the size, top right


def test_offscreen_has_no_tray(qapp) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()


def test_icon_follows_the_level_and_changes_only_when_it_does(tray, snapshots) -> None:
    assert _centre(tray) == LEVEL_COLOURS["idle"]
    tray.on_snapshot(snapshots["green"])
    assert _centre(tray) == LEVEL_COLOURS["healthy"]
    first = tray.icon.icon().cacheKey()
    tray.on_snapshot(snapshots["green"])  # same level: the very same icon object stays
    assert tray.icon.icon().cacheKey() == first
    tray.on_snapshot(snapshots["red"])
    assert _centre(tray) == LEVEL_COLOURS["critical"]
    assert _corner(tray) == WAITING_COLOUR
    tray.on_snapshot(snapshots["idle"])
    assert _centre(tray) == LEVEL_COLOURS["idle"] and _corner(tray) != WAITING_COLOUR


def test_tooltip(tray, snapshots) -> None:
    tray.on_snapshot(snapshots["red"])
    assert tray.icon.toolTip().startswith(
        "LLM Session Manager — 2 live · 1 critical · 1 waiting · "
    )
    assert tray.icon.toolTip().endswith(" tokens today")


def test_menu_lists_attention_then_the_commands(tray, snapshots) -> None:
    tray.on_snapshot(snapshots["red"])
    tray.menu.aboutToShow.emit()
    texts = [a.text() for a in tray.menu.actions()]
    assert texts[0].startswith("myapp — Claude Code — critical (context ")
    assert texts[1] == "my.app_v2 space — Claude Code — waiting for permission prompt"
    assert texts[2:] == [
        "", "Open LLM Session Manager", "Refresh now", "Pause notifications", "Settings…",
        "", "Quit",
    ]
    assert not tray.menu.actions()[0].icon().isNull()


def test_menu_without_attention_and_rebuilt_each_time(tray, snapshots) -> None:
    tray.on_snapshot(snapshots["red"])
    tray.menu.aboutToShow.emit()
    tray.on_snapshot(snapshots["green"])
    tray.menu.aboutToShow.emit()
    texts = [a.text() for a in tray.menu.actions()]
    assert texts[0] == "Open LLM Session Manager"


def _action(tray: TrayController, text: str):
    tray.menu.aboutToShow.emit()
    return next(a for a in tray.actions() if a.text() == text)


def test_attention_entry_asks_for_its_session(qtbot, tray, snapshots) -> None:
    tray.on_snapshot(snapshots["red"])
    tray.menu.aboutToShow.emit()
    entry = tray.menu.actions()[1]
    with qtbot.waitSignal(tray.session_requested) as blocker:
        entry.trigger()
    assert blocker.args[0].session_id.startswith("24237997")


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Open LLM Session Manager", "open_requested"),
        ("Refresh now", "refresh_requested"),
        ("Settings…", "settings_requested"),
        ("Quit", "quit_requested"),
    ],
)
def test_commands_emit_their_signal(qtbot, tray, snapshots, text, signal) -> None:
    tray.on_snapshot(snapshots["green"])
    with qtbot.waitSignal(getattr(tray, signal)):
        _action(tray, text).trigger()


def test_pause_and_resume(qtbot, tray, snapshots) -> None:
    tray.on_snapshot(snapshots["green"])
    assert not _action(tray, "Resume").isEnabled()
    with qtbot.waitSignal(tray.pause_requested) as blocker:
        _action(tray, "For 1 hour").trigger()
    assert blocker.args == [NOW + timedelta(hours=1)]
    assert "notifications paused until Wed 00:30" in tray.icon.toolTip()
    assert _action(tray, "Resume").isEnabled()
    with qtbot.waitSignal(tray.pause_requested) as blocker:
        _action(tray, "Until tomorrow").trigger()
    assert blocker.args[0].hour == 8 and blocker.args[0] > NOW
    with qtbot.waitSignal(tray.pause_requested) as blocker:
        _action(tray, "Resume").trigger()
    assert blocker.args == [None]
    assert "paused" not in tray.icon.toolTip()


def test_quiet_hours_show_in_the_tooltip_and_the_pause_menu(tray, snapshots) -> None:
    tray.on_snapshot(snapshots["green"])
    tray.set_quiet_hours(parse_quiet_hours("23:00-07:00"))  # NOW is 23:30 on the tray's clock
    assert tray.icon.toolTip().endswith(" · notifications quiet until 07:00")
    line = _action(tray, "Quiet hours until 07:00")
    assert not line.isEnabled()  # set in the config, not from the menu
    assert not _action(tray, "Resume").isEnabled()  # quiet hours are no pause to resume
    tray.set_quiet_hours(parse_quiet_hours("01:00-07:00"))  # a reload: not quiet yet
    assert "quiet" not in tray.icon.toolTip()
    assert not _action(tray, "Quiet hours 01:00–07:00").isEnabled()
    tray.set_quiet_hours(None)
    tray.menu.aboutToShow.emit()
    assert not [a for a in tray.actions() if a.text().startswith("Quiet hours")]


def test_left_click_opens_the_window(qtbot, tray) -> None:
    with qtbot.waitSignal(tray.open_requested):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    with qtbot.assertNotEmitted(tray.open_requested):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)
