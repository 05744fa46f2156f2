"""Start at login: one interface, one module per platform (psutil-style), chosen once.

- Linux and other XDG desktops: a desktop entry in `$XDG_CONFIG_HOME/autostart` (`_xdg.py`).
- macOS: a LaunchAgent plist in `~/Library/LaunchAgents` (`_launchd.py`); launchd reads it at
  the next login, so nothing is loaded now.
- Windows: a value under `HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run` (`_windows.py`).

Each backend writes only its own entry, named after the app. `launch_command()` is what gets
started: the frozen executable, the installed `llm-session-manager` script, or this Python with
`-m llm_session_manager`; with no command the app starts in the tray.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from llm_session_manager.paths import APP_NAME


class AutostartBackend(Protocol):
    @property
    def location(self) -> str:
        """Where the entry lives (a file path or a registry value), for messages."""

    def command(self) -> list[str] | None:
        """The command the entry starts, or None when there is no (enabled) entry."""

    def enable(self, command: Sequence[str]) -> None: ...

    def disable(self) -> None: ...


@dataclass(frozen=True)
class AutostartStatus:
    enabled: bool
    location: str
    command: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.enabled:
            return f"start at login: off ({self.location} absent)"
        return f"start at login: on ({self.location}: {' '.join(self.command)})"


def launch_command(
    argv0: str | None = None, executable: str = sys.executable, frozen: bool | None = None
) -> list[str]:
    """How to start this same installation again, from a login with a minimal PATH."""
    # Absolute but not resolved: a venv's python is a symlink to the base interpreter, and
    # following it would start Python without the venv's packages.
    python = os.path.abspath(executable)
    if frozen if frozen is not None else getattr(sys, "frozen", False):
        return [python]
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name in (APP_NAME, f"{APP_NAME}.exe") and script.is_file():
        return [os.path.abspath(script)]
    found = shutil.which(APP_NAME)
    if found and Path(os.path.abspath(found)).parent == Path(python).parent:
        return [os.path.abspath(found)]  # the script of this same environment
    return [python, "-m", "llm_session_manager"]


def backend_for(
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> AutostartBackend:
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if platform == "darwin":
        from llm_session_manager.autostart._launchd import LaunchAgent

        return LaunchAgent(home / "Library" / "LaunchAgents")
    if platform == "win32":
        from llm_session_manager.autostart._windows import RunKey, WinregRegistry

        return RunKey(WinregRegistry())
    from llm_session_manager.autostart._xdg import XdgAutostart

    config_home = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    return XdgAutostart(Path(config_home) / "autostart")


def status(backend: AutostartBackend | None = None) -> AutostartStatus:
    backend = backend or backend_for()
    command = backend.command()
    return AutostartStatus(command is not None, backend.location, tuple(command or ()))


def set_enabled(enabled: bool, backend: AutostartBackend | None = None) -> AutostartStatus:
    """Turn start at login on (for this installation) or off; returns the new status."""
    backend = backend or backend_for()
    if enabled:
        backend.enable(launch_command())
    else:
        backend.disable()
    return status(backend)
