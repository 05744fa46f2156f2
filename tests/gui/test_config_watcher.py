"""A config file in a folder that does not exist yet is still picked up once written."""

from __future__ import annotations

from pathlib import Path

from llm_session_manager.ui.config_watcher import ConfigWatcher


def test_a_config_written_into_a_new_folder_is_loaded(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "config-home" / "llm-session-manager" / "config.yaml"
    watcher = ConfigWatcher(path)
    with qtbot.waitSignal(watcher.config_reloaded, timeout=5000) as blocker:
        path.parent.mkdir(parents=True)
        path.write_text("poll_interval_s: 7\n", encoding="utf-8")
    config, problems = blocker.args
    assert config.poll_interval_s == 7 and problems == ()
    with qtbot.waitSignal(watcher.config_reloaded, timeout=5000) as blocker:
        path.write_text("poll_interval_s: 9\n", encoding="utf-8")  # now watched directly
    assert blocker.args[0].poll_interval_s == 9
