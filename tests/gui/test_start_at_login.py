"""The settings' "Start at login" box writes and removes the autostart entry, and says so."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from llm_session_manager.autostart._xdg import XdgAutostart
from llm_session_manager.ui.start_at_login import StartAtLoginBox


def test_box_follows_and_sets_the_entry(qtbot: QtBot, tmp_path: Path) -> None:
    entry = tmp_path / "autostart" / "llm-session-manager.desktop"
    box = StartAtLoginBox(backend=XdgAutostart(tmp_path / "autostart"))
    qtbot.addWidget(box)
    assert not box.isChecked()
    box.click()
    assert box.isChecked() and entry.is_file()
    assert box.toolTip().startswith(f"start at login: on ({entry}")
    box.click()
    assert not box.isChecked() and not entry.exists()
    entry.parent.mkdir(exist_ok=True)
    XdgAutostart(tmp_path / "autostart").enable(["/bin/true"])
    again = StartAtLoginBox(backend=XdgAutostart(tmp_path / "autostart"))
    qtbot.addWidget(again)
    assert again.isChecked()  # an existing entry shows as on


def test_box_reverts_when_the_entry_cannot_be_written(qtbot: QtBot, tmp_path: Path) -> None:
    blocker = tmp_path / "autostart"
    blocker.write_text("a file where the folder should be")
    box = StartAtLoginBox(backend=XdgAutostart(blocker))
    qtbot.addWidget(box)
    box.click()
    assert not box.isChecked()
    assert box.toolTip().startswith("Could not change start at login:")
