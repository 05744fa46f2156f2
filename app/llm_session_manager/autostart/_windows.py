"""Windows: a value named after the app under the current user's Run key.

The registry sits behind a three-method protocol so the logic is tested on any OS with a dict;
`WinregRegistry` is the real one and imports `winreg` only when used (it exists only on Windows).
"""

from __future__ import annotations

import importlib
import subprocess
from collections.abc import Sequence
from typing import Any, Protocol

from llm_session_manager.paths import APP_NAME

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


class Registry(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


def _winreg() -> Any:
    # Imported by name: mypy on Linux sees winreg's stubs as Windows-only and would flag each use.
    return importlib.import_module("winreg")


class WinregRegistry:
    """HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run."""

    def get(self, name: str) -> str | None:
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, name)
        except OSError:
            return None
        return str(value)

    def set(self, name: str, value: str) -> None:
        winreg = _winreg()
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass


class RunKey:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @property
    def location(self) -> str:
        return f"HKCU\\{RUN_KEY}\\{APP_NAME}"

    def command(self) -> list[str] | None:
        value = self._registry.get(APP_NAME)
        return split_command_line(value) if value else None

    def enable(self, command: Sequence[str]) -> None:
        # The Run key holds one command line; list2cmdline quotes it the way Windows parses it.
        self._registry.set(APP_NAME, subprocess.list2cmdline(list(command)))

    def disable(self) -> None:
        self._registry.delete(APP_NAME)


def split_command_line(line: str) -> list[str]:
    """The inverse of list2cmdline for what `enable` writes (quoted paths with spaces)."""
    args: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch.isspace() and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return args
