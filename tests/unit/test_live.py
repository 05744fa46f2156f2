"""Live state from recorded process dumps and Claude's own pid file (tests/data/real-clients/live).

The process table is built from what psutil reported while the real clients ran. /proc is the
only thing faked: a `<pid>/stat` written into tmp_path, in the kernel's format.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.core.live import claude_live, codex_live, read_proc_start
from llm_session_manager.core.models import LiveState, SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable
from process_dumps import LIVE, load_dump

CLAUDE_PID = 14985  # the pid in claude-sessions-pid-file.json
CLAUDE_SID = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"
CLAUDE_PROC_START = 42786

CODEX_HOME = Path("/home/dev/.codex")
CODEX_TUI, CODEX_LAUNCHER, CODEX_APP_SERVER, CODEX_UPDATER = 18653, 18641, 18677, 18770
CODEX_SID = "01a20fd1-4b89-7f80-8a4c-8dc40102662d"  # the interactive thread in the dump
CODEX_OTHER_SID = "01a20fd1-0a0e-7dd0-be8f-cc771d4a140a"  # an exec thread, same cwd
CXAPP = "/home/dev/src/cxapp"


def stat_line(pid: int, comm: str, start_ticks: int) -> str:
    """A /proc/<pid>/stat line: pid (comm) state, then fields 4.. with field 22 = start time."""
    fields = ["S", "1", str(pid), str(pid), "34816", str(pid), "4194560"]  # fields 3-9
    fields += ["0"] * 12  # fields 10-21
    fields += [str(start_ticks), "1234567", "400"] + ["0"] * 30  # field 22 onwards
    return f"{pid} ({comm}) {' '.join(fields)}\n"


@pytest.fixture
def proc_root(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    (root / str(CLAUDE_PID)).mkdir(parents=True)
    (root / str(CLAUDE_PID) / "stat").write_text(stat_line(CLAUDE_PID, "claude", CLAUDE_PROC_START))
    return root


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    config = tmp_path / "home" / ".claude"
    (config / "sessions").mkdir(parents=True)
    shutil.copy(LIVE / "claude-sessions-pid-file.json", config / "sessions" / f"{CLAUDE_PID}.json")
    return config


def edit_pid_file(config: Path, **changes: Any) -> None:
    path = config / "sessions" / f"{CLAUDE_PID}.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def claude_table(pid: int = CLAUDE_PID, create_time: float | None = None) -> ProcessTable:
    """The recorded claude process (another run's pid), given the pid file's pid."""
    (info,) = load_dump("claude-process-idle.json")
    info = dataclasses.replace(info, pid=pid, create_time=create_time or info.create_time)
    return ProcessTable.from_infos([info])


# --- Claude: the pid file ---


def test_proc_start_is_field_22_even_when_the_command_name_has_spaces_and_parens(
    tmp_path: Path,
) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "stat").write_text(stat_line(7, "we (ird) name", 99))
    assert read_proc_start(tmp_path, 7) == "99"
    assert read_proc_start(tmp_path, 8) is None  # no such process


def test_idle_pid_file_maps_exactly(claude_dir: Path, proc_root: Path) -> None:
    live = claude_live([claude_dir], claude_table(), proc_root=proc_root)
    assert live == {CLAUDE_SID: LiveState("idle", (CLAUDE_PID,), "pid-file", None)}


@pytest.mark.parametrize(
    ("status", "extra", "state", "detail"),
    [
        ("busy", {}, "active", None),
        ("idle", {}, "idle", None),
        ("waiting", {"waitingFor": "permission prompt"}, "waiting", "permission prompt"),
        ("waiting", {}, "waiting", "input"),
        ("thinking-hard", {}, "idle", "status 'thinking-hard'"),
    ],
)
def test_status_translation(
    claude_dir: Path, proc_root: Path, status: str, extra: dict[str, str], state: str, detail: str
) -> None:
    edit_pid_file(claude_dir, status=status, **extra)
    live = claude_live([claude_dir], claude_table(), proc_root=proc_root)
    assert live[CLAUDE_SID].state == state
    assert live[CLAUDE_SID].detail == detail
    assert live[CLAUDE_SID].mapping == "pid-file"


def test_a_waiting_session_says_since_when(claude_dir: Path, proc_root: Path) -> None:
    # statusUpdatedAt is epoch milliseconds, as the real 2.1.197 pid file writes it.
    edit_pid_file(claude_dir, status="waiting", waitingFor="permission prompt",
                  statusUpdatedAt=1795561563438)
    live = claude_live([claude_dir], claude_table(), proc_root=proc_root)[CLAUDE_SID]
    assert live.since == datetime(2026, 11, 24, 23, 6, 3, 438000, tzinfo=UTC)
    # Only waiting needs it: a busy or idle state stays equal whenever its status changed.
    edit_pid_file(claude_dir, status="busy", statusUpdatedAt=1795561569999)
    assert claude_live([claude_dir], claude_table(), proc_root=proc_root)[CLAUDE_SID].since is None


def test_a_permission_prompt_names_the_tool_the_transcript_waits_on(
    claude_dir: Path, proc_root: Path
) -> None:
    edit_pid_file(claude_dir, status="waiting", waitingFor="permission prompt")
    facts = SessionFacts(key=SessionKey("claude-code", CLAUDE_SID), pending_tool="Bash")
    live = claude_live([claude_dir], claude_table(), {CLAUDE_SID: facts}, proc_root=proc_root)
    assert live[CLAUDE_SID].detail == "permission prompt for Bash"
    # Without a pending call (or the facts), the pid file's words stand alone.
    bare = SessionFacts(key=SessionKey("claude-code", CLAUDE_SID))
    live = claude_live([claude_dir], claude_table(), {CLAUDE_SID: bare}, proc_root=proc_root)
    assert live[CLAUDE_SID].detail == "permission prompt"


def test_pid_file_of_a_dead_process_is_ignored(claude_dir: Path, tmp_path: Path) -> None:
    empty_proc = tmp_path / "empty-proc"
    empty_proc.mkdir()
    assert claude_live([claude_dir], claude_table(), proc_root=empty_proc) == {}


def test_pid_file_whose_pid_was_reused_is_ignored(claude_dir: Path, proc_root: Path) -> None:
    # Same pid, different start time: the file was left by a crashed claude and the pid recycled.
    stat = proc_root / str(CLAUDE_PID) / "stat"
    stat.write_text(stat_line(CLAUDE_PID, "bash", CLAUDE_PROC_START + 5000))
    assert claude_live([claude_dir], claude_table(), proc_root=proc_root) == {}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"pid":14985,"sessionId":"984fb08c-23',  # caught mid-write
        b"\x00\xff garbage",
        b"[1, 2, 3]",
        b'{"pid":14985}',  # no session id
        b'{"pid":"14985","sessionId":"x"}',
        b'{"pid":4242,"sessionId":"x","procStart":"42786"}',  # names another process
    ],
)
def test_bad_pid_file_is_skipped_and_the_good_one_still_read(
    claude_dir: Path, proc_root: Path, content: bytes
) -> None:
    (claude_dir / "sessions" / "14985.json").rename(claude_dir / "sessions" / "keep")
    (claude_dir / "sessions" / "14985.json").write_bytes(content)
    assert claude_live([claude_dir], claude_table(), proc_root=proc_root) == {}
    # A second config dir with the real file still maps; the bad one raised nothing.
    other = claude_dir.parent / "other-config"
    (other / "sessions").mkdir(parents=True)
    (claude_dir / "sessions" / "keep").rename(other / "sessions" / "14985.json")
    live = claude_live([claude_dir, other], claude_table(), proc_root=proc_root)
    assert set(live) == {CLAUDE_SID}


def test_oversized_pid_file_is_not_read(claude_dir: Path, proc_root: Path) -> None:
    edit_pid_file(claude_dir, padding="x" * 100_000)
    assert claude_live([claude_dir], claude_table(), proc_root=proc_root) == {}


def test_missing_config_dir_gives_nothing(tmp_path: Path, proc_root: Path) -> None:
    assert claude_live([tmp_path / "nope"], claude_table(), proc_root=proc_root) == {}


def test_without_procfs_start_time_is_compared_with_started_at(
    claude_dir: Path, tmp_path: Path
) -> None:
    no_proc = tmp_path / "no-proc"  # macOS, Windows
    started_at = json.loads((claude_dir / "sessions" / "14985.json").read_text())["startedAt"]
    started = started_at / 1000.0
    near = claude_table(create_time=started - 0.4)
    live = claude_live([claude_dir], near, proc_root=no_proc)
    assert live[CLAUDE_SID] == LiveState("idle", (CLAUDE_PID,), "pid-file", None)
    far = claude_table(create_time=started - 3600)
    assert claude_live([claude_dir], far, proc_root=no_proc) == {}
    gone = ProcessTable.from_infos([])
    assert claude_live([claude_dir], gone, proc_root=no_proc) == {}


# --- Claude: processes without a pid file (older versions) ---


def facts(
    agent: str,
    sid: str,
    cwd: str,
    minute: int,
    hint: str | None = None,
    paths: tuple[str, ...] = (),
) -> SessionFacts:
    at = datetime(2026, 11, 24, 23, minute, tzinfo=UTC)
    return SessionFacts(
        SessionKey(agent, sid), cwd=cwd, last_activity_at=at, turn_hint=hint, paths=paths
    )


def test_claude_process_without_pid_file_maps_by_cwd_to_the_latest_session(
    tmp_path: Path, proc_root: Path
) -> None:
    (info,) = load_dump("claude-process-busy.json")  # pid 11499, no pid file for it
    sessions = {
        "old": facts("claude-code", "old", "/home/dev/src/myapp", 1, "turn_done"),
        "new": facts("claude-code", "new", "/home/dev/src/myapp/", 9, "tool_running"),
        "elsewhere": facts("claude-code", "elsewhere", "/home/dev/src/other", 30),
    }
    table = ProcessTable.from_infos([info])
    live = claude_live([tmp_path / "none"], table, sessions, proc_root=proc_root)
    assert live == {"new": LiveState("active", (11499,), "cwd", None)}
    assert claude_live([tmp_path / "none"], table, None, proc_root=proc_root) == {}


def test_pid_file_wins_over_the_cwd_guess(claude_dir: Path, proc_root: Path) -> None:
    sessions = {
        CLAUDE_SID: facts("claude-code", CLAUDE_SID, "/home/dev/src/myapp", 1, "turn_done"),
        "newer": facts("claude-code", "newer", "/home/dev/src/myapp", 9, "working"),
    }
    live = claude_live([claude_dir], claude_table(), sessions, proc_root=proc_root)
    assert live == {CLAUDE_SID: LiveState("idle", (CLAUDE_PID,), "pid-file", None)}


# --- Codex ---


def codex_table(drop: Collection[int] = (), **replace_by_pid: dict[str, Any]) -> ProcessTable:
    infos = []
    for info in load_dump("codex-process-tree.json"):
        if info.pid in drop:
            continue
        changes = replace_by_pid.get(f"p{info.pid}", {})
        infos.append(dataclasses.replace(info, **changes))
    return ProcessTable.from_infos(infos)


def codex_sessions(hint: str | None = "turn_done") -> dict[str, SessionFacts]:
    # The exec thread is made the most recent in the same cwd, so a cwd guess would pick it.
    return {
        CODEX_SID: facts("codex", CODEX_SID, CXAPP, 8, hint),
        CODEX_OTHER_SID: facts("codex", CODEX_OTHER_SID, CXAPP, 50, "turn_done"),
    }


def without(files: tuple[str, ...] | None, marker: str) -> tuple[str, ...]:
    return tuple(f for f in files or () if marker not in f)


def test_codex_tui_maps_to_the_rollout_its_app_server_holds_open() -> None:
    live = codex_live([CODEX_HOME], codex_table(), codex_sessions())
    assert live == {CODEX_SID: LiveState("idle", (CODEX_TUI, CODEX_LAUNCHER), "open-file", None)}


def test_codex_state_follows_the_turn_hint() -> None:
    live = codex_live([CODEX_HOME], codex_table(), codex_sessions(hint="working"))
    assert live[CODEX_SID].state == "active"


def test_codex_rollout_found_through_the_session_paths_as_well() -> None:
    rollout = next(
        f for f in codex_table().open_files_of(CODEX_APP_SERVER) if f.endswith(f"{CODEX_SID}.jsonl")
    )
    sessions = {CODEX_SID: facts("codex", CODEX_SID, CXAPP, 8, "working", (rollout,))}
    # Even when the homes given do not contain it (CODEX_HOME moved), the known path proves it.
    live = codex_live([Path("/elsewhere")], codex_table(), sessions)
    assert live[CODEX_SID] == LiveState("active", (CODEX_TUI, CODEX_LAUNCHER), "open-file")


def test_codex_lock_file_when_no_rollout_is_open() -> None:
    app_server = codex_table().get(CODEX_APP_SERVER)
    assert app_server is not None
    table = codex_table(p18677={"open_files": without(app_server.open_files, "rollout-")})
    live = codex_live([CODEX_HOME], table, codex_sessions())
    assert live == {CODEX_SID: LiveState("idle", (CODEX_TUI, CODEX_LAUNCHER), "lock-file")}


def test_codex_cwd_guess_when_no_file_tells() -> None:
    app_server = codex_table().get(CODEX_APP_SERVER)
    assert app_server is not None
    files = without(without(app_server.open_files, "rollout-"), "thread-writer-locks")
    table = codex_table(p18677={"open_files": files})
    live = codex_live([CODEX_HOME], table, codex_sessions())
    assert live == {CODEX_OTHER_SID: LiveState("idle", (CODEX_TUI, CODEX_LAUNCHER), "cwd")}


def test_files_of_another_codex_home_are_not_taken_for_this_one() -> None:
    app_server = codex_table().get(CODEX_APP_SERVER)
    assert app_server is not None
    moved = tuple(
        f.replace("/home/dev/.codex", "/home/eve/.codex") for f in app_server.open_files or ()
    )
    table = codex_table(p18677={"open_files": moved})
    live = codex_live([CODEX_HOME], table, codex_sessions())
    assert live[CODEX_OTHER_SID].mapping == "cwd"
    assert CODEX_SID not in live


def test_lone_app_server_after_the_tui_quit_is_not_live() -> None:
    # The TUI and its launcher exited; the detached app-server (re-parented to init) still holds
    # the rollout and the lock open for a while.
    table = codex_table(drop={CODEX_TUI, CODEX_LAUNCHER}, p18677={"ppid": 1}, p18770={"ppid": 1})
    assert table.get(CODEX_APP_SERVER) is not None
    assert codex_live([CODEX_HOME], table, codex_sessions()) == {}


def test_codex_exec_process_is_a_front_end() -> None:
    (launcher, tui, *_rest) = load_dump("codex-process-tree.json")
    rollout = (
        f"/home/dev/.codex/sessions/2026/11/24/rollout-2026-11-24T23-08-07-{CODEX_OTHER_SID}.jsonl"
    )
    exec_proc = dataclasses.replace(
        tui, cmdline=(*tui.cmdline, "exec", "Say hello"), open_files=(rollout,)
    )
    live = codex_live(
        [CODEX_HOME], ProcessTable.from_infos([launcher, exec_proc]), codex_sessions()
    )
    assert live == {CODEX_OTHER_SID: LiveState("idle", (CODEX_TUI, CODEX_LAUNCHER), "open-file")}


def test_no_codex_processes_no_live_sessions() -> None:
    (claude,) = load_dump("claude-process-busy.json")
    others = [*load_dump("gemini-process.json"), *load_dump("copilot-process.json"), claude]
    assert codex_live([CODEX_HOME], ProcessTable.from_infos(others), codex_sessions()) == {}
