"""XDG autostart (Linux and the BSDs): `$XDG_CONFIG_HOME/autostart/llm-session-manager.desktop`.

The entry is the shipped menu entry (resources/linux/) with `Exec` pointing at this installation,
so the login starts the same copy the user turned it on from. Off removes the file: a `Hidden=true`
entry would be needed only to override a system-wide one, which this app never installs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from llm_session_manager.paths import APP_NAME, resource_path

FILE_NAME = f"{APP_NAME}.desktop"


class XdgAutostart:
    def __init__(self, autostart_dir: Path) -> None:
        self._path = autostart_dir / FILE_NAME

    @property
    def location(self) -> str:
        return str(self._path)

    def command(self) -> list[str] | None:
        try:
            text = self._path.read_text(encoding="utf-8")
        except OSError:
            return None
        entry = _desktop_entry(text)
        if entry.get("Hidden", "").lower() == "true":
            return None
        if entry.get("X-GNOME-Autostart-enabled", "true").lower() == "false":
            return None
        return split_exec(entry.get("Exec", "")) or None

    def enable(self, command: Sequence[str]) -> None:
        text = autostart_entry(command)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{FILE_NAME}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self._path)  # atomic: a login never sees half an entry

    def disable(self) -> None:
        self._path.unlink(missing_ok=True)


def autostart_entry(command: Sequence[str]) -> str:
    """The shipped desktop entry, with `Exec` set to `command` and autostart keys added."""
    template = resource_path("linux", FILE_NAME).read_text(encoding="utf-8")
    exec_line = "Exec=" + " ".join(_quote(arg) for arg in command)
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = exec_line
        lines.append(line)
    lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def _quote(arg: str) -> str:
    # The desktop entry spec quotes with double quotes and escapes ", `, $ and \ inside them.
    if arg and all(c.isalnum() or c in "-_./=:+,@" for c in arg):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def split_exec(line: str) -> list[str]:
    """An Exec value as arguments: spaces separate, double quotes group, backslash escapes."""
    args: list[str] = []
    current: list[str] = []
    started = quoted = escaped = False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
            started = True
        elif ch == " " and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        args.append("".join(current))
    return args


def _desktop_entry(text: str) -> dict[str, str]:
    """The keys of the [Desktop Entry] group (other groups, such as actions, are ignored)."""
    keys: dict[str, str] = {}
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            group = line
            continue
        if group == "[Desktop Entry]" and "=" in line:
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip()
    return keys
