"""Codex's live sessions, from the files its processes hold open.

Interactive Codex is three processes: a node launcher (`node .../bin/codex`), the native TUI it
spawns, and a `codex app-server` the TUI starts, which holds the rollout and
`<home>/thread-writer-locks/<thread id>.lock` open. `codex exec` is a launcher and one native
process. The app-server is detached and can outlive the TUI by minutes, so it only counts while
it is a descendant of a running TUI: a lone app-server is no session the user is running.
Mapping, best first: a rollout held open ("open-file"), a writer lock held open ("lock-file"),
the most recent session in the TUI's cwd ("cwd").
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_session_manager.core.live_match import exe_name, hint_state, merge, most_recent_in_cwd
from llm_session_manager.core.models import LiveState, MappingMethod, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ROLLOUT_RE = re.compile(rf"^rollout-.*-({_UUID})\.jsonl(?:\.zst)?$")
_LOCK_RE = re.compile(rf"^({_UUID})\.lock$")

# Subcommands of the native binary that are not a user's session: servers and housekeeping.
# Anything else (no subcommand, a prompt, `exec`, `resume`, `fork`) is a front end.
_NOT_A_FRONT = frozenset(
    {"app-server", "mcp-server", "login", "logout", "completion", "mcp", "debug", "sandbox",
     "apply", "cloud", "features", "help", "responses-api-proxy", "stdio-to-uds"}
)  # fmt: skip


@dataclass(frozen=True)
class _Front:
    """One running Codex front end: its own pids, and the processes whose files tell its thread."""

    pids: tuple[int, ...]  # the front end first, then its launcher
    holders: tuple[int, ...]  # the front end and its codex descendants (the app-server)
    cwd_pid: int


def codex_live(
    homes: Sequence[Path], processes: ProcessTable, sessions: Mapping[str, SessionFacts]
) -> dict[str, LiveState]:
    """Live Codex sessions keyed by thread id; a session that is absent has ended."""
    roots = _Roots(homes)
    path_index = {
        os.path.normpath(path): session_id
        for session_id, facts in sessions.items()
        for path in facts.paths
    }
    found: dict[str, LiveState] = {}
    by_cwd: list[_Front] = []
    for front in _fronts(processes):
        exact = _exact_threads(front, processes, roots, path_index)
        if not exact:
            by_cwd.append(front)
        for session_id, mapping in exact.items():
            state = hint_state(sessions.get(session_id))
            merge(found, session_id, LiveState(state, front.pids, mapping))
    # The guess comes last, so it cannot take a session that a file proves belongs to another.
    for front in by_cwd:
        cwd = processes.cwd_of(front.cwd_pid)
        guess = most_recent_in_cwd(cwd, sessions, found) if cwd else None
        if guess is not None:
            found[guess] = LiveState(hint_state(sessions[guess]), front.pids, "cwd")
    return found


class _Roots:
    """The Codex homes, as given and resolved, to tell which open files are whose."""

    def __init__(self, homes: Sequence[Path]) -> None:
        bases = {os.path.normpath(p) for h in homes for p in (str(h), os.path.realpath(h))}
        self._rollout_dirs = tuple(
            os.path.join(base, sub) for base in bases for sub in ("sessions", "archived_sessions")
        )
        self._lock_dirs = frozenset(os.path.join(base, "thread-writer-locks") for base in bases)

    def has_rollout(self, path: str) -> bool:
        parent = os.path.dirname(path)
        return any(parent == d or parent.startswith(d + os.sep) for d in self._rollout_dirs)

    def has_lock(self, path: str) -> bool:
        return os.path.dirname(path) in self._lock_dirs


def _exact_threads(
    front: _Front, processes: ProcessTable, roots: _Roots, path_index: Mapping[str, str]
) -> dict[str, MappingMethod]:
    """Thread ids this front end's processes hold open, each with how it was found.

    A TUI can hold several rollouts (a thread and the sub-agent threads it spawned); each one
    being written to is a live session.
    """
    rollouts: dict[str, MappingMethod] = {}
    locks: dict[str, MappingMethod] = {}
    for pid in front.holders:
        for raw in processes.open_files_of(pid):
            path = os.path.normpath(raw)
            name = os.path.basename(path)
            known = path_index.get(path)
            if known is not None:
                rollouts[known] = "open-file"
                continue
            rollout = _ROLLOUT_RE.match(name)
            if rollout and roots.has_rollout(path):
                rollouts[rollout.group(1)] = "open-file"
                continue
            lock = _LOCK_RE.match(name)
            if lock and roots.has_lock(path):
                locks[lock.group(1)] = "lock-file"
    return {**locks, **rollouts}


def _fronts(processes: ProcessTable) -> list[_Front]:
    natives = [p for p in processes if _is_native(p)]
    launchers = [p for p in processes if _is_launcher(p)]
    fronts = []
    for proc in natives:
        if _subcommand(proc) in _NOT_A_FRONT:
            continue
        parent = processes.get(proc.ppid)
        launcher = parent is not None and _is_launcher(parent)
        pids = (proc.pid, proc.ppid) if launcher else (proc.pid,)
        fronts.append(_Front(pids, _with_codex_descendants(proc, processes), proc.pid))
    native_parents = {p.ppid for p in natives}
    for proc in launchers:
        # A launcher whose native child exists is covered above (or is `codex login` and the
        # like); one without a child is a JS-only Codex, or caught between spawn and exec.
        if proc.pid not in native_parents:
            fronts.append(_Front((proc.pid,), _with_codex_descendants(proc, processes), proc.pid))
    return fronts


def _with_codex_descendants(root: ProcessInfo, processes: ProcessTable) -> tuple[int, ...]:
    seen = [root.pid]
    queue = [root.pid]
    while queue:
        for child in processes.children_of(queue.pop()):
            if child.pid not in seen and (_is_native(child) or _is_launcher(child)):
                seen.append(child.pid)
                queue.append(child.pid)
    return tuple(seen)


def _is_native(proc: ProcessInfo) -> bool:
    exe_name = os.path.basename(proc.exe.replace("\\", "/"))
    return exe_name in ("codex", "codex.exe") or (not proc.exe and proc.name == "codex")


def _is_launcher(proc: ProcessInfo) -> bool:
    if not exe_name(proc).startswith("node") or len(proc.cmdline) < 2:
        return False
    return os.path.basename(proc.cmdline[1].replace("\\", "/")) in ("codex", "codex.js")


def _subcommand(proc: ProcessInfo) -> str | None:
    # The first word that is not an option; a flag's value could stand here, but no flag value
    # is one of the server or housekeeping subcommands this is compared with.
    return next((arg for arg in proc.cmdline[1:] if not arg.startswith("-")), None)
