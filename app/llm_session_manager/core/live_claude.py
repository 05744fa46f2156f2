"""Claude Code's live sessions, from the pid files it writes while it runs.

`<config dir>/sessions/<pid>.json` holds `{pid, sessionId, cwd, startedAt, procStart, status,
waitingFor, ...}`. Claude deletes it on a clean exit but leaves it behind after a crash, and pids
are reused, so a file only counts when its pid runs now *and* started when the file says:
`procStart` is field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot), compared
exactly; where there is no /proc (macOS, Windows) `startedAt` (epoch ms) is compared with the
process's creation time. Claude versions before the pid files map by cwd, like other agents.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeGuard

from llm_session_manager.core.live_match import hint_state, merge, most_recent_in_cwd
from llm_session_manager.core.models import LiveState, LiveStateName, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable

log = logging.getLogger(__name__)

# A real pid file is ~400 bytes; anything far larger is not one, and is not read whole.
PID_FILE_MAX_BYTES = 64 * 1024
# `startedAt` is taken by Claude shortly after the process starts (runtime start-up comes first).
STARTED_AT_SLACK_S = 5.0

_STATUS: dict[str, LiveStateName] = {"busy": "active", "idle": "idle", "waiting": "waiting"}


@dataclass(frozen=True)
class PidFile:
    pid: int
    session_id: str
    status: str | None = None
    waiting_for: str | None = None
    proc_start: str | None = None  # decimal clock ticks, as written (a string in 2.1.197)
    started_at_ms: float | None = None
    status_at_ms: float | None = None  # statusUpdatedAt: when the status last changed


def claude_live(
    config_dirs: Sequence[Path],
    processes: ProcessTable,
    sessions: Mapping[str, SessionFacts] | None = None,
    *,
    proc_root: Path = Path("/proc"),
) -> dict[str, LiveState]:
    """Live Claude sessions keyed by session id; a session that is absent has ended.

    `proc_root` is where `<pid>/stat` is read from; when it is not a directory (no procfs) the
    start time is checked against the process table's creation times instead.
    """
    has_procfs = proc_root.is_dir()
    found: dict[str, LiveState] = {}
    claimed: set[int] = set()
    for config_dir in config_dirs:
        for record in read_pid_files(config_dir / "sessions"):
            if record.pid in claimed:
                continue  # the same process listed under two config dirs (a symlinked dir)
            if not _same_process(record, processes, proc_root if has_procfs else None):
                continue
            claimed.add(record.pid)
            facts = sessions.get(record.session_id) if sessions else None
            merge(found, record.session_id, _pid_file_state(record, facts))
    if sessions:
        _map_by_cwd(processes, sessions, claimed, found)
    return found


def read_pid_files(sessions_dir: Path) -> list[PidFile]:
    """Every readable `<pid>.json` in `sessions_dir`, in pid order; bad files are skipped."""
    try:
        names = os.listdir(sessions_dir)
    except OSError:
        return []  # no sessions dir: Claude never ran here, or a version without pid files
    named = sorted((pid, name) for name in names if (pid := _pid_of_name(name)) is not None)
    records = [_read_pid_file(sessions_dir / name, pid) for pid, name in named]
    return [record for record in records if record is not None]


def read_proc_start(proc_root: Path, pid: int) -> str | None:
    """Field 22 of `<proc_root>/<pid>/stat` (start time in clock ticks), None if not running."""
    try:
        data = (proc_root / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # Field 2 is the command name in parentheses and may itself hold spaces and ")"; the fields
    # after the last ")" start at field 3, so field 22 is the 20th of them.
    rest = data[data.rfind(b")") + 1 :].split()
    if len(rest) < 20:
        return None
    try:
        return str(int(rest[19]))
    except ValueError:
        return None


def _read_pid_file(path: Path, name_pid: int) -> PidFile | None:
    try:
        with path.open("rb") as fh:
            raw = fh.read(PID_FILE_MAX_BYTES + 1)
    except OSError:
        return None  # deleted between listing and reading: the process just exited
    if len(raw) > PID_FILE_MAX_BYTES:
        log.debug("not a Claude pid file (too large): %s", path)
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        # Also what a file caught mid-write looks like; the next poll reads it whole.
        log.debug("unreadable Claude pid file: %s", path)
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid", name_pid)
    session_id = data.get("sessionId")
    if not _is_int(pid) or pid != name_pid or not isinstance(session_id, str) or not session_id:
        return None
    started_at = data.get("startedAt")
    status_at = data.get("statusUpdatedAt")
    return PidFile(
        pid=pid,
        session_id=session_id,
        status=_str_or_none(data.get("status")),
        waiting_for=_str_or_none(data.get("waitingFor")),
        proc_start=_ticks_or_none(data.get("procStart")),
        started_at_ms=float(started_at) if _is_number(started_at) else None,
        status_at_ms=float(status_at) if _is_number(status_at) else None,
    )


def _same_process(record: PidFile, processes: ProcessTable, proc_root: Path | None) -> bool:
    """Is `record.pid` running now, and is it the process that wrote the file?"""
    if proc_root is not None and record.proc_start is not None:
        return read_proc_start(proc_root, record.pid) == record.proc_start
    if record.started_at_ms is None:
        return False  # nothing to tell this process from a later one with the same pid
    # A Claude process is always in the table (its name says "claude"); a pid missing from it
    # is gone or now belongs to something else.
    info = processes.get(record.pid)
    if info is None:
        return False
    return abs(info.create_time - record.started_at_ms / 1000.0) <= STARTED_AT_SLACK_S


def _pid_file_state(record: PidFile, facts: SessionFacts | None = None) -> LiveState:
    state = _STATUS.get(record.status or "")
    detail: str | None = None
    if state is None:
        # A status this code does not know yet: the process is alive, so say so without guessing.
        state = "idle"
        detail = f"status {record.status!r}" if record.status else None
    elif state == "waiting":
        detail = record.waiting_for or "input"
        if record.waiting_for == "permission prompt" and facts is not None and facts.pending_tool:
            # The prompt asks about the call the transcript shows waiting for its result.
            detail = f"permission prompt for {facts.pending_tool}"
        if record.status_at_ms is not None:
            since = datetime.fromtimestamp(record.status_at_ms / 1000.0, tz=UTC)
            return LiveState(state, (record.pid,), "pid-file", detail, since)
    return LiveState(state, (record.pid,), "pid-file", detail)


def _map_by_cwd(
    processes: ProcessTable,
    sessions: Mapping[str, SessionFacts],
    claimed: set[int],
    found: dict[str, LiveState],
) -> None:
    """Claude processes without a pid file: the most recent session in the process's cwd."""
    # Newest process first, so when two share a cwd the newer one gets the newer session.
    for proc in sorted(_claude_processes(processes), key=lambda p: -p.create_time):
        if proc.pid in claimed:
            continue
        cwd = processes.cwd_of(proc.pid)
        if cwd is None:
            continue
        session_id = most_recent_in_cwd(cwd, sessions, found)
        if session_id is None:
            continue
        found[session_id] = LiveState(hint_state(sessions[session_id]), (proc.pid,), "cwd")


def _claude_processes(processes: ProcessTable) -> list[ProcessInfo]:
    """Claude CLI processes, without the children of another one (a launcher and its binary)."""
    matched = [p for p in processes if is_claude_process(p)]
    pids = {p.pid for p in matched}
    return [p for p in matched if p.ppid not in pids]


def is_claude_process(proc: ProcessInfo) -> bool:
    # Native builds run as `claude` (a copy of .../claude-code/bin/claude.exe); older builds are
    # `node .../@anthropic-ai/claude-code/cli.js`.
    if proc.name in ("claude", "claude.exe"):
        return True
    exe = proc.exe.replace("\\", "/")
    if "/claude-code" in exe:
        return True
    if os.path.basename(exe).startswith("node") or proc.name.startswith("node"):
        script = proc.cmdline[1].replace("\\", "/") if len(proc.cmdline) > 1 else ""
        return "/claude-code/" in script or os.path.basename(script) == "claude"
    return False


def _pid_of_name(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    return int(stem) if dot and ext == "json" and stem.isdigit() else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _ticks_or_none(value: object) -> str | None:
    if _is_int(value):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value))
    return None
