"""GitHub Copilot CLI's live sessions, from the in-use file in the session's folder.

Copilot CLI 1.0.102 is a node launcher (`node .../bin/copilot`) and a native child whose process
name is `MainThread` (its exe is `.../@github/copilot-<platform>/copilot`), so processes are matched
on exe and command line, never on the name. While a process has a session open it keeps
`inuse.<pid>.lock` in `session-state/<id>/` (the process dump shows it holding `inuse.<pid>.hold`
there; both spellings are accepted) and the file goes away when it closes the session.

Mapping, best first: the in-use file the process holds open ("open-file"); an in-use file named
for a running Copilot pid, for systems where open files cannot be read ("lock-file"); the most
recent session in the process's cwd ("cwd"). A lock file whose pid is no running Copilot process
was left behind by a crash and means nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from llm_session_manager.core.live_match import (
    hint_state,
    merge,
    most_recent_in_cwd,
    node_script,
)
from llm_session_manager.core.models import (
    LiveState,
    LiveStateName,
    MappingMethod,
    SessionFacts,
)
from llm_session_manager.core.processes import ProcessInfo, ProcessTable

_INUSE = re.compile(r"^inuse\.(?P<pid>\d+)\.(?:lock|hold)$")
_PACKAGE = "/@github/copilot"


def copilot_live(
    homes: Sequence[Path], processes: ProcessTable, sessions: Mapping[str, SessionFacts]
) -> dict[str, LiveState]:
    """Live Copilot CLI sessions keyed by session id; a session that is absent has ended."""
    roots = {os.path.normpath(p) for h in homes
             for p in (str(h / "session-state"), os.path.realpath(h / "session-state"))}
    fronts = _fronts(processes)
    if not fronts:
        return {}
    found: dict[str, LiveState] = {}
    unmapped: list[tuple[int, ...]] = []
    for pids in fronts:
        held = _held_sessions(pids[0], processes, roots)
        for session_id in held:
            merge(found, session_id, _state(sessions.get(session_id), pids, "open-file"))
        if not held:
            unmapped.append(pids)
    if unmapped:
        by_pid = {pids[0]: pids for pids in unmapped}
        for session_id, pid in _lock_files(roots, sessions):
            owner = by_pid.get(pid)
            if owner is not None:
                merge(found, session_id, _state(sessions.get(session_id), owner, "lock-file"))
        mapped = {pid for state in found.values() for pid in state.pids}
        unmapped = [pids for pids in unmapped if pids[0] not in mapped]
    # The guess comes last, so it cannot take a session that a file proves belongs to another.
    for pids in unmapped:
        cwd = processes.cwd_of(pids[0])
        guess = most_recent_in_cwd(cwd, sessions, found) if cwd else None
        if guess is not None:
            found[guess] = _state(sessions[guess], pids, "cwd")
    return found


def _state(facts: SessionFacts | None, pids: tuple[int, ...], how: MappingMethod) -> LiveState:
    if facts is not None and facts.turn_hint == "permission":
        return LiveState("waiting", pids, how, "permission prompt")
    state: LiveStateName = hint_state(facts)
    return LiveState(state, pids, how)


def _held_sessions(pid: int, processes: ProcessTable, roots: set[str]) -> list[str]:
    """Session ids whose in-use file this process holds open."""
    found = []
    for raw in processes.open_files_of(pid):
        path = os.path.normpath(raw)
        folder = os.path.dirname(path)
        if _INUSE.match(os.path.basename(path)) and os.path.dirname(folder) in roots:
            found.append(os.path.basename(folder))
    return found


def _lock_files(roots: set[str], sessions: Mapping[str, SessionFacts]) -> list[tuple[str, int]]:
    """(session id, pid) of every in-use file in the known sessions' folders."""
    found = []
    folders = {os.path.dirname(path) for facts in sessions.values() for path in facts.paths}
    for folder in sorted(folders):
        if os.path.dirname(os.path.normpath(folder)) not in roots:
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _INUSE.match(name)
            if match:
                found.append((os.path.basename(folder), int(match.group("pid"))))
    return found


def is_native(proc: ProcessInfo) -> bool:
    # The name is "MainThread" (the native runtime names its main thread), so the exe decides.
    return os.path.basename(proc.exe.replace("\\", "/")) in ("copilot", "copilot.exe")


def is_launcher(proc: ProcessInfo) -> bool:
    script = node_script(proc)
    if script is None:
        return False
    return os.path.basename(script) in ("copilot", "copilot.js") or _PACKAGE + "/" in script


def _fronts(processes: ProcessTable) -> list[tuple[int, ...]]:
    """One entry per running Copilot CLI: the native process first, then its launcher."""
    natives = [p for p in processes if is_native(p)]
    fronts: list[tuple[int, ...]] = []
    for proc in natives:
        parent = processes.get(proc.ppid)
        launcher = parent is not None and is_launcher(parent)
        fronts.append((proc.pid, proc.ppid) if launcher else (proc.pid,))
    native_parents = {p.ppid for p in natives}
    for proc in processes:
        # A launcher without a native child: an older, JavaScript-only Copilot CLI.
        if is_launcher(proc) and proc.pid not in native_parents:
            fronts.append((proc.pid,))
    return fronts
