"""opencode's live sessions: which running `opencode` works in which session.

opencode writes no pid -> session record, and its process holds only the shared database open
(seen with opencode 1.18.33: one native process named `opencode`, exe `.../opencode.exe` when
installed from npm, cwd = the project). So the mapping is by cwd: the most recently active
session recorded in the process's directory ("cwd"). Whether a turn is running comes from the
record: the newest assistant message without a `time.completed` is a turn in progress.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llm_session_manager.core.live_match import hint_state, merge, most_recent_in_cwd
from llm_session_manager.core.models import LiveState, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable

# Subcommands that are not a user's session in the current directory: servers and housekeeping.
# `opencode` (the TUI), `opencode run ...` and `opencode <project dir>` are front ends.
_NOT_A_FRONT = frozenset(
    {"serve", "web", "acp", "mcp", "auth", "models", "stats", "export", "import", "upgrade",
     "uninstall", "github", "agent", "debug", "completion", "db", "session", "plugin"}
)  # fmt: skip


def opencode_live(
    processes: ProcessTable, sessions: Mapping[str, SessionFacts]
) -> dict[str, LiveState]:
    found: dict[str, LiveState] = {}
    # Older processes first: with two fronts in one folder, the older one keeps the session it
    # has been working in longest and the newer one gets the next most recent.
    for proc in sorted(processes, key=lambda p: (p.create_time, p.pid)):
        if not is_front(proc):
            continue
        cwd = processes.cwd_of(proc.pid)
        if not cwd:
            continue
        session_id = most_recent_in_cwd(cwd, sessions, found)
        if session_id is None:
            continue
        state = hint_state(sessions.get(session_id))
        merge(found, session_id, LiveState(state, (proc.pid,), "cwd"))
    return found


def is_front(proc: ProcessInfo) -> bool:
    """An opencode front end: the native binary (named opencode, or opencode.exe from npm),
    not the node launcher that may start it (its child is the process that does the work)."""
    names = (proc.name, os.path.basename(proc.exe))
    if not any(_is_opencode(n) for n in names if n):
        return False
    args = [a for a in proc.cmdline[1:] if not a.startswith("-")]
    return not (args and args[0] in _NOT_A_FRONT)


def _is_opencode(name: str) -> bool:
    base = name.lower()
    return base in ("opencode", "opencode.exe") or base.startswith("opencode-")
