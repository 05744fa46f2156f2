"""What the agents' live modules share: combining findings, the cwd + recency fallback, and
telling a node launcher's script from its command line."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping

from llm_session_manager.core.models import LiveState, LiveStateName, SessionFacts
from llm_session_manager.core.processes import ProcessInfo

# Turn hints (SessionFacts.turn_hint) that mean the agent is in the middle of a turn.
ACTIVE_HINTS = frozenset({"working", "tool_running"})

# When two processes report one session, the one that needs the user wins, and the more exact
# mapping is kept: a user must never miss a permission prompt because a second process is idle.
_STATE_RANK: dict[str, int] = {"ended": 0, "idle": 1, "active": 2, "waiting": 3}
_MAPPING_RANK: dict[str, int] = {"none": 0, "cwd": 1, "lock-file": 2, "open-file": 3, "pid-file": 4}


def hint_state(facts: SessionFacts | None) -> LiveStateName:
    """A live process's state when only the record can tell: mid-turn or not."""
    if facts is not None and facts.turn_hint in ACTIVE_HINTS:
        return "active"
    return "idle"


def merge(found: dict[str, LiveState], session_id: str, new: LiveState) -> None:
    """Add `new` for `session_id`, combining it with what another process already reported."""
    old = found.get(session_id)
    if old is None:
        found[session_id] = new
        return
    pids = tuple(dict.fromkeys(old.pids + new.pids))
    lead = new if _STATE_RANK[new.state] > _STATE_RANK[old.state] else old
    mapping = max(old.mapping, new.mapping, key=lambda m: _MAPPING_RANK[m])
    found[session_id] = LiveState(lead.state, pids, mapping, lead.detail)


def same_dir(a: str, b: str) -> bool:
    # The kernel reports a resolved cwd while agents record what they were given; normpath is
    # enough for both to agree in practice, and costs no I/O per session.
    return os.path.normpath(a) == os.path.normpath(b)


def most_recent_in_cwd(
    cwd: str, sessions: Mapping[str, SessionFacts], taken: Collection[str]
) -> str | None:
    """The most recently active session recorded in `cwd` that no other process has claimed."""
    return most_recent(sessions, taken, lambda f: bool(f.cwd) and same_dir(f.cwd or "", cwd))


def most_recent(
    sessions: Mapping[str, SessionFacts],
    taken: Collection[str],
    matches: Callable[[SessionFacts], bool],
) -> str | None:
    """The most recently active session that `matches` and no other process has claimed."""
    best: str | None = None
    best_at = float("-inf")
    for session_id, facts in sessions.items():
        if session_id in taken or not matches(facts):
            continue
        at = facts.last_activity_at.timestamp() if facts.last_activity_at else float("-inf")
        if best is None or at > best_at:
            best, best_at = session_id, at
    return best


def exe_name(proc: ProcessInfo) -> str:
    """The executable's file name (a Windows path too), else the process name."""
    return os.path.basename(proc.exe.replace("\\", "/")) or proc.name


def node_script(proc: ProcessInfo) -> str | None:
    """The script a node process runs (its first argument that is not an option), with `/` as
    the separator; None for a process that is not node or runs no script."""
    if not exe_name(proc).startswith("node"):
        return None
    for arg in proc.cmdline[1:]:
        if not arg.startswith("-"):
            return arg.replace("\\", "/")
    return None
