"""macOS: a LaunchAgent in `~/Library/LaunchAgents` that launchd starts at the next login.

`launchctl load` is not called: the app is already running when the user turns this on, and
loading the agent now would start a second copy.
"""

from __future__ import annotations

import os
import plistlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

LABEL = "io.github.llm-session-manager"


class LaunchAgent:
    def __init__(self, agents_dir: Path) -> None:
        self._path = agents_dir / f"{LABEL}.plist"

    @property
    def location(self) -> str:
        return str(self._path)

    def command(self) -> list[str] | None:
        try:
            with self._path.open("rb") as f:
                plist = plistlib.load(f)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return None
        args = plist.get("ProgramArguments") if isinstance(plist, dict) else None
        if not plist.get("RunAtLoad") or not isinstance(args, list) or not args:
            return None
        return [str(a) for a in args]

    def enable(self, command: Sequence[str]) -> None:
        plist = {
            "Label": LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            # Interactive: a menu-bar app the user sees, not a background daemon to throttle.
            "ProcessType": "Interactive",
            "KeepAlive": False,
        }
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{LABEL}.")
        with os.fdopen(fd, "wb") as f:
            plistlib.dump(plist, f)
        os.replace(tmp, self._path)

    def disable(self) -> None:
        self._path.unlink(missing_ok=True)
