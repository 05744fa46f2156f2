"""One home holding records of every agent: the real clients' home (Claude Code, Codex, Gemini
CLI, Copilot CLI) plus the real opencode database, and the public Cursor workspace database and
Copilot Chat session placed where Cursor and VS Code keep them on Linux
(`~/.config/<product>/User/workspaceStorage/<hash>/`)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
OPENCODE_HOME = DATA / "real-clients" / "opencode-home"
CURSOR_DB = DATA / "public" / "cursor" / "slevin48-cursor-history__workspace-state.reduced.vscdb"
COPILOT_CHAT = DATA / "public" / "copilot-vscode" / "splitrail__copilot.trimmed.json"


def add_every_agent(home: Path) -> Path:
    """Add opencode's, Cursor's and Copilot Chat's records to a copy of the real clients' home."""
    shutil.copytree(OPENCODE_HOME / ".local", home / ".local", dirs_exist_ok=True)
    cursor_ws = home / ".config" / "Cursor" / "User" / "workspaceStorage" / "a1b2c3"
    cursor_ws.mkdir(parents=True)
    shutil.copy(CURSOR_DB, cursor_ws / "state.vscdb")
    (cursor_ws / "workspace.json").write_text(json.dumps({"folder": "file:///home/dev/src/cur"}))
    code_ws = home / ".config" / "Code" / "User" / "workspaceStorage" / "d4e5f6"
    (code_ws / "chatSessions").mkdir(parents=True)
    session_id = json.loads(COPILOT_CHAT.read_text())["sessionId"]
    shutil.copy(COPILOT_CHAT, code_ws / "chatSessions" / f"{session_id}.json")
    (code_ws / "workspace.json").write_text(json.dumps({"folder": "file:///home/dev/src/vs"}))
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return home
