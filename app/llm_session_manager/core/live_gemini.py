"""Gemini CLI's live sessions, by the process's cwd.

Gemini CLI runs as `node .../bin/gemini`, which relaunches itself as a child node process with a
larger heap (`node --max-old-space-size=N .../gemini`); neither holds the chat file open (it is
opened only to append) and no pid file names the session (gemini-process.json). So a running
Gemini maps to the most recent session recorded for its cwd ("cwd"), which is the project root
the CLI records, and its state comes from the record's turn hint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llm_session_manager.core.live_match import (
    exe_name,
    hint_state,
    merge,
    most_recent_in_cwd,
    node_script,
)
from llm_session_manager.core.models import LiveState, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable

# What the command line's script is called: the npm bin link, or the package's entry point.
_SCRIPT_NAMES = frozenset({"gemini", "gemini.js"})


def gemini_live(
    processes: ProcessTable, sessions: Mapping[str, SessionFacts]
) -> dict[str, LiveState]:
    """Live Gemini sessions keyed by session id; a session that is absent has ended."""
    found: dict[str, LiveState] = {}
    for pids in _fronts(processes):
        cwd = processes.cwd_of(pids[0])
        if not cwd:
            continue
        guess = most_recent_in_cwd(cwd, sessions, found)
        if guess is not None:
            merge(found, guess, LiveState(hint_state(sessions[guess]), pids, "cwd"))
    return found


def is_gemini(proc: ProcessInfo) -> bool:
    if exe_name(proc) in ("gemini", "gemini.exe"):  # a packaged single binary
        return True
    script = node_script(proc)
    if script is None:
        return False
    return os.path.basename(script) in _SCRIPT_NAMES or "/@google/gemini-cli/" in script


def _fronts(processes: ProcessTable) -> list[tuple[int, ...]]:
    """One entry per running Gemini: the working process first, then its launcher."""
    gemini = {p.pid: p for p in processes if is_gemini(p)}
    fronts: list[tuple[int, ...]] = []
    for proc in gemini.values():
        if any(child.pid in gemini for child in processes.children_of(proc.pid)):
            continue  # a launcher: reported with the child that does the work
        parent = gemini.get(proc.ppid)
        fronts.append((proc.pid, parent.pid) if parent is not None else (proc.pid,))
    return fronts
