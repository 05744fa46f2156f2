"""Start at login on each platform: the file system in a temp folder, the registry in a dict."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from llm_session_manager import autostart
from llm_session_manager.autostart._launchd import LABEL, LaunchAgent
from llm_session_manager.autostart._windows import RunKey, split_command_line
from llm_session_manager.autostart._xdg import XdgAutostart, autostart_entry
from llm_session_manager.cli import main

COMMAND = ["/opt/LLM Session Manager/llm-session-manager"]


class DictRegistry:
    """The Run key as a dict: the three calls RunKey makes, nothing else."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_xdg_entry_is_the_menu_entry_with_this_command(tmp_path: Path) -> None:
    backend = XdgAutostart(tmp_path / "autostart")
    assert backend.command() is None
    backend.enable(COMMAND)
    path = tmp_path / "autostart" / "llm-session-manager.desktop"
    text = path.read_text()
    assert 'Exec="/opt/LLM Session Manager/llm-session-manager"' in text
    assert "Name=LLM Session Manager" in text and "Icon=llm-session-manager" in text
    assert "X-GNOME-Autostart-enabled=true" in text
    assert backend.command() == COMMAND
    assert list(path.parent.iterdir()) == [path]  # the temp file of the atomic write is gone
    backend.disable()
    assert not path.exists() and backend.command() is None
    backend.disable()  # off twice is fine


def test_xdg_entry_turned_off_by_the_desktop_counts_as_off(tmp_path: Path) -> None:
    backend = XdgAutostart(tmp_path)
    path = tmp_path / "llm-session-manager.desktop"
    path.write_text(autostart_entry(COMMAND).replace("Autostart-enabled=true",
                                                      "Autostart-enabled=false"))
    assert backend.command() is None
    path.write_text(autostart_entry(COMMAND) + "Hidden=true\n")
    assert backend.command() is None


def test_xdg_quotes_what_the_spec_says_to_escape(tmp_path: Path) -> None:
    command = ["/usr/bin/python3", "-m", "llm_session_manager", 'odd "$name`\\']
    backend = XdgAutostart(tmp_path)
    backend.enable(command)
    assert 'Exec=/usr/bin/python3 -m llm_session_manager "odd \\"\\$name\\`\\\\"' in (
        tmp_path / "llm-session-manager.desktop").read_text()
    assert backend.command() == command


def test_launch_agent_plist(tmp_path: Path) -> None:
    backend = LaunchAgent(tmp_path / "LaunchAgents")
    assert backend.command() is None
    backend.enable(COMMAND)
    path = tmp_path / "LaunchAgents" / f"{LABEL}.plist"
    with path.open("rb") as f:
        plist = plistlib.load(f)
    assert plist["Label"] == LABEL
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True
    assert backend.command() == COMMAND
    backend.disable()
    assert not path.exists()


def test_launch_agent_ignores_a_broken_plist(tmp_path: Path) -> None:
    (tmp_path / f"{LABEL}.plist").write_text("not a plist")
    assert LaunchAgent(tmp_path).command() is None


def test_run_key_round_trip() -> None:
    registry = DictRegistry()
    backend = RunKey(registry)
    assert backend.command() is None
    backend.enable([*COMMAND, "--data-dir", r"C:\Users\A B\data"])
    assert registry.values == {
        "llm-session-manager":
            '"/opt/LLM Session Manager/llm-session-manager" --data-dir "C:\\Users\\A B\\data"'
    }
    assert backend.command() == [*COMMAND, "--data-dir", r"C:\Users\A B\data"]
    backend.disable()
    assert registry.values == {}
    assert "CurrentVersion\\Run\\llm-session-manager" in backend.location


@pytest.mark.parametrize("args", [["a"], ["C:\\Program Files\\x\\app.exe", "-m", "mod"], []])
def test_split_command_line_inverts_list2cmdline(args: list[str]) -> None:
    assert split_command_line(subprocess.list2cmdline(args)) == args


def test_backend_per_platform(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    linux = autostart.backend_for("linux", env, tmp_path)
    assert linux.location == str(tmp_path / "cfg" / "autostart" / "llm-session-manager.desktop")
    assert autostart.backend_for("linux", {}, tmp_path).location.startswith(
        str(tmp_path / ".config" / "autostart"))
    mac = autostart.backend_for("darwin", env, tmp_path)
    assert mac.location == str(tmp_path / "Library" / "LaunchAgents" / f"{LABEL}.plist")
    assert "CurrentVersion\\Run" in autostart.backend_for("win32", env, tmp_path).location


def test_launch_command_starts_this_installation(tmp_path: Path) -> None:
    bundle = str(tmp_path / "bundle" / "app")
    assert autostart.launch_command(executable=bundle, frozen=True) == [bundle]
    script = tmp_path / "bin" / "llm-session-manager"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    assert autostart.launch_command(str(script), frozen=False) == [str(script)]
    # A venv's python is kept as it is, not resolved to the interpreter it links to.
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    fallback = autostart.launch_command(str(tmp_path / "pytest"), str(python), frozen=False)
    assert fallback == [str(python), "-m", "llm_session_manager"]


def test_cli_autostart_on_status_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    entry = tmp_path / "cfg" / "autostart" / "llm-session-manager.desktop"
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "autostart", "status"]) == 0
    assert capsys.readouterr().out.startswith("start at login: off")
    assert main([*data, "autostart", "on"]) == 0
    assert capsys.readouterr().out.startswith(f"start at login: on ({entry}: ")
    assert entry.is_file()
    assert main([*data, "autostart", "off"]) == 0
    assert capsys.readouterr().out.startswith("start at login: off")
    assert not entry.exists()
