"""Live state of chats inside an editor (Cursor, VS Code and its forks).

An editor writes no pid next to a chat and holds no chat file open, so the only link between a
running editor and a chat is the folder: a window opened on a folder (the folder on the command
line, else the process's cwd) makes that folder's most recent chat live ("cwd" mapping). One
Electron main process can host several windows, and folders opened later through its IPC never
reach its command line, so this finds fewer live chats than there are, never more than one per
folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from llm_session_manager.core.live_match import hint_state, merge
from llm_session_manager.core.models import LiveState, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources.editor_dirs import uri_to_path


@dataclass(frozen=True)
class EditorApps:
    """How an editor's main process is recognised: its executable's name (Linux, Windows) or
    its macOS app bundle (where VS Code's executable is named "Electron" or "Code")."""

    names: frozenset[str]
    bundles: tuple[str, ...]


CURSOR_APPS = EditorApps(frozenset({"cursor"}), ("Cursor.app",))
# Copilot Chat runs in VS Code, its Insiders build, VSCodium, and in the forks whose chats are
# read (Cursor, Windsurf, Positron) when installed there.
VSCODE_APPS = EditorApps(
    frozenset({"code", "code-insiders", "code-oss", "codium", "vscodium", "cursor", "windsurf",
               "positron"}),
    ("Visual Studio Code.app", "Visual Studio Code - Insiders.app", "VSCodium.app", "Cursor.app",
     "Windsurf.app", "Positron.app"),
)  # fmt: skip

# Electron/VS Code options whose value is the next argument: that value is not a folder.
_VALUE_OPTIONS = frozenset(
    {"--user-data-dir", "--extensions-dir", "--profile", "--locale", "--log", "--sync",
     "--category", "--install-extension", "--uninstall-extension", "--enable-proposed-api",
     "--inspect-extensions", "--inspect-brk-extensions", "--add", "--remove", "--goto"}
)  # fmt: skip


def _exe_name(path: str) -> str:
    name = os.path.basename(path.replace("\\", "/")).lower()
    return name[:-4] if name.endswith(".exe") else name


def is_editor_main(proc: ProcessInfo, apps: EditorApps) -> bool:
    """The editor's main process: renderers, GPU and extension hosts carry `--type=`."""
    if any(arg.startswith("--type=") for arg in proc.cmdline[1:]):
        return False
    if _exe_name(proc.exe) in apps.names or (not proc.exe and _exe_name(proc.name) in apps.names):
        return True
    exe = proc.exe.replace("\\", "/")
    return any(f"/{bundle}/Contents/MacOS/" in exe for bundle in apps.bundles)


def opened_folders(proc: ProcessInfo, cwd: str | None) -> list[str]:
    """Folders named on the command line (`cursor .`, `code ~/src/app`, `--folder-uri URI`)."""
    folders: list[str] = []
    args = iter(proc.cmdline[1:])
    for arg in args:
        name, eq, value = arg.partition("=")
        if name == "--folder-uri":
            path = uri_to_path(value if eq else next(args, ""))
            if path:
                folders.append(path)
        elif arg.startswith("-"):
            if not eq and name in _VALUE_OPTIONS:
                next(args, None)  # the option's value, not a folder
        else:
            folders.append(arg if os.path.isabs(arg) or not cwd else os.path.join(cwd, arg))
    return folders


def _same_folder(a: str, b: str) -> bool:
    # normcase: on Windows workspace.json says "c:/x" where psutil says "C:\x".
    return os.path.normcase(os.path.normpath(a)) == os.path.normcase(os.path.normpath(b))


def most_recent_in(folder: str, sessions: Mapping[str, SessionFacts]) -> str | None:
    best: str | None = None
    best_at = float("-inf")
    for session_id, facts in sessions.items():
        if not facts.cwd or not _same_folder(facts.cwd, folder):
            continue
        at = facts.last_activity_at.timestamp() if facts.last_activity_at else float("-inf")
        if best is None or at > best_at:
            best, best_at = session_id, at
    return best


def editor_live(
    processes: ProcessTable, sessions: Mapping[str, SessionFacts], apps: EditorApps
) -> dict[str, LiveState]:
    """Live chats keyed by session id: each open folder's most recent one; absent = ended."""
    found: dict[str, LiveState] = {}
    for proc in processes:
        if not is_editor_main(proc, apps):
            continue
        cwd = processes.cwd_of(proc.pid)
        folders = opened_folders(proc, cwd) or ([cwd] if cwd else [])
        for folder in folders:
            session_id = most_recent_in(folder, sessions)
            if session_id is not None:
                state = hint_state(sessions[session_id])
                merge(found, session_id, LiveState(state, (proc.pid,), "cwd"))
    return found
