"""Where VS Code and its forks (Code - Insiders, VSCodium, Cursor) keep their user data.

They share Electron's layout: `<app data>/<product>/User/` holding `globalStorage/` and one
`workspaceStorage/<hash>/` per opened folder, whose `workspace.json` names that folder. Both the
Cursor and the Copilot Chat sources read this layout, so it is resolved here once.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import orjson

# A workspace.json is a few hundred bytes; anything far larger is not one.
MAX_WORKSPACE_JSON = 64 * 1024
_DRIVE_PATH = re.compile(r"^/[A-Za-z]:")


def app_data_dir(env: Mapping[str, str], home: Path, platform: str | None = None) -> Path:
    """Electron's per-user app data dir: what `app.getPath('appData')` returns on each OS."""
    platform = platform or sys.platform
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform.startswith("win"):
        appdata = env.get("APPDATA", "").strip()
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    return Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"


def dot_cursor(env: Mapping[str, str], home: Path, platform: str | None = None) -> Path:
    """Cursor's own `~/.cursor` (agent transcripts, the CLI's chats); on Windows under
    `%USERPROFILE%`, where Cursor puts it."""
    if (platform or sys.platform).startswith("win"):
        profile = env.get("USERPROFILE", "").strip()
        return Path(profile) / ".cursor" if profile else home / ".cursor"
    return home / ".cursor"


def user_dirs(
    products: Sequence[str], env: Mapping[str, str], home: Path, platform: str | None = None
) -> list[Path]:
    """`<app data>/<product>/User` for each product folder name (e.g. "Code", "Cursor")."""
    base = app_data_dir(env, home, platform)
    return [base / product / "User" for product in products]


def uri_to_path(uri: str) -> str | None:
    """The folder a VS Code URI names: `file:///c%3A/x` -> `c:/x`, `file:///home/u` -> `/home/u`.

    A remote URI (`vscode-remote://ssh-remote+host/path`) gives its path: the folder lives on
    another machine, but its name is still the project's name.
    """
    if not uri:
        return None
    if "://" not in uri:
        return uri  # already a path (some builds write fsPath)
    parts = urlsplit(uri)
    path = unquote(parts.path)
    if not path:
        return None
    if _DRIVE_PATH.match(path):
        path = path[1:]  # "/c:/Users" is how a URI spells the Windows path "c:/Users"
    if parts.scheme == "file" and parts.netloc:
        path = f"//{parts.netloc}{path}"  # a UNC share
    return path


def workspace_dirs(user_dir: Path) -> list[str]:
    """The `workspaceStorage/<hash>/` folders of one user dir, sorted; [] when there are none."""
    try:
        with os.scandir(user_dir / "workspaceStorage") as entries:
            return sorted(e.path for e in entries if e.is_dir())
    except OSError:
        return []


def workspace_folder(workspace_dir: str) -> str | None:
    """The folder of one `workspaceStorage/<hash>/`, from its `workspace.json`.

    `folder` is a single-folder window; `workspace` is a `.code-workspace` file, whose own folder
    stands for the project. None when the file is missing or unreadable (an empty window).
    """
    try:
        with open(Path(workspace_dir) / "workspace.json", "rb") as handle:
            data = orjson.loads(handle.read(MAX_WORKSPACE_JSON))
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    folder = data.get("folder")
    if isinstance(folder, str):
        return uri_to_path(folder)
    workspace = data.get("workspace")
    if isinstance(workspace, str):
        path = uri_to_path(workspace)
        return path.rsplit("/", 1)[0] if path and "/" in path else path
    return None
