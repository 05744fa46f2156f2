"""The process scan: a process already seen costs one read of its stat line.

`scan_procfs` runs over a fake `/proc` here, so that a reused pid, an exec and a re-parented
process can be staged; the last test runs it over the real one next to psutil's own scan.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from llm_session_manager.core import processes
from llm_session_manager.core.processes import (
    ProcessInfo,
    ProcessTable,
    SeenProcess,
    scan_procfs,
)


def stat_line(pid: int, comm: str, ppid: int, start: int, arg_start: int = 1000) -> bytes:
    """A /proc/<pid>/stat line; fields 3.. are `rest[n - 3]`."""
    rest = ["0"] * 50
    rest[0], rest[1], rest[19] = "S", str(ppid), str(start)
    rest[25] = str(arg_start + 500)  # startstack
    rest[45], rest[46] = str(arg_start), str(arg_start + 40)  # arg_start, arg_end
    return f"{pid} ({comm}) {' '.join(rest)}\n".encode()


class FakeProc:
    """A fake procfs, and a `read_info` that says what a process is and counts the reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: dict[int, str] = {}
        self.reads: list[int] = []
        self.failing: set[int] = set()

    def put(self, pid: int, comm: str, ppid: int = 1, start: int = 100, arg: int = 1000) -> None:
        (self.root / str(pid)).mkdir(parents=True, exist_ok=True)
        (self.root / str(pid) / "stat").write_bytes(stat_line(pid, comm, ppid, start, arg))
        self.names[pid] = comm

    def kill(self, pid: int) -> None:
        (self.root / str(pid) / "stat").unlink()
        (self.root / str(pid)).rmdir()

    def read_info(self, pid: int) -> ProcessInfo | None:
        self.reads.append(pid)
        if pid in self.failing:
            raise ProcessLookupError(pid)
        name = self.names[pid]
        if "claude" not in name:
            return None
        return ProcessInfo(pid, name, f"/bin/{name}", (name, "--x"), 1.5, 0)

    def scan(
        self, seen: dict[int, SeenProcess]
    ) -> tuple[dict[int, ProcessInfo], dict[int, SeenProcess]]:
        return scan_procfs(str(self.root), seen, self.read_info)


@pytest.fixture
def proc(tmp_path: Path) -> FakeProc:
    fake = FakeProc(tmp_path / "proc")
    fake.root.mkdir()
    (fake.root / "self").mkdir()  # not a pid: skipped
    fake.put(10, "bash")
    fake.put(20, "claude", ppid=10)
    return fake


def test_a_known_process_is_not_read_again(proc: FakeProc) -> None:
    found, seen = proc.scan({})
    assert list(found) == [20] and found[20].name == "claude"
    assert sorted(proc.reads) == [10, 20]
    again, seen = proc.scan(seen)
    assert again == found
    assert sorted(proc.reads) == [10, 20]  # nothing read but the stat lines


def test_the_parent_pid_is_taken_from_every_scan(proc: FakeProc) -> None:
    _, seen = proc.scan({})
    proc.put(20, "claude", ppid=1)  # its parent exited: re-parented to init
    found, _ = proc.scan(seen)
    assert found[20].ppid == 1
    assert sorted(proc.reads) == [10, 20]


def test_a_reused_pid_is_read_as_a_new_process(proc: FakeProc) -> None:
    _, seen = proc.scan({})
    proc.kill(20)
    proc.put(20, "bash", start=900)  # pid 20 again, started later, something else
    found, seen = proc.scan(seen)
    assert found == {}
    proc.kill(10)
    proc.put(10, "claude", start=950)
    found, _ = proc.scan(seen)
    assert list(found) == [10]
    assert proc.reads.count(20) == 2 and proc.reads.count(10) == 2


def test_an_exec_is_read_again(proc: FakeProc) -> None:
    _, seen = proc.scan({})
    proc.put(10, "claude")  # the shell exec'd claude: same pid and start time, another name
    found, seen = proc.scan(seen)
    assert sorted(found) == [10, 20]
    proc.put(20, "claude", ppid=10, arg=5000)  # same name, a new image (new argument area)
    proc.reads.clear()
    proc.scan(seen)
    assert proc.reads == [20]


def test_gone_and_unreadable_processes(proc: FakeProc) -> None:
    _, seen = proc.scan({})
    proc.kill(20)
    proc.put(30, "claude")
    proc.failing.add(30)
    found, seen = proc.scan(seen)
    assert found == {} and set(seen) == {10}  # 20 forgotten, 30 not kept: read again next time
    proc.failing.clear()
    found, _ = proc.scan(seen)
    assert list(found) == [30]
    assert proc.reads.count(30) == 2


def test_a_missing_procfs_gives_an_empty_table(tmp_path: Path) -> None:
    assert scan_procfs(str(tmp_path / "nowhere"), {}, lambda pid: None) == ({}, {})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="procfs")
def test_the_real_scan_agrees_with_psutil_and_sees_a_reused_table() -> None:
    # "claude" in the command line makes the child count as an agent's process.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)  # claude"])
    try:
        deadline = time.monotonic() + 10
        while "claude" not in " ".join(psutil.Process(child.pid).cmdline()):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        first = ProcessTable.scan()
        second = ProcessTable.scan()  # from the kept table
        expected = processes._scan_psutil()
        for table in (first, second):
            assert table.get(child.pid) == expected[child.pid]
        # Every other process too: dropping non-agents early (from /proc, before psutil) keeps
        # exactly the processes psutil's own scan keeps. A process that came, went or changed
        # around the scan (psutil's scans before and after disagree on it) is left out.
        pids_before, before = set(psutil.pids()), set(processes._scan_psutil())
        fresh = set(ProcessTable.scan().processes)
        pids_after, after = set(psutil.pids()), set(processes._scan_psutil())
        steady = (pids_before & pids_after) - (before ^ after)
        assert child.pid in steady
        assert fresh & steady == before & steady
    finally:
        child.kill()
        child.wait()
    assert ProcessTable.scan().get(child.pid) is None


@pytest.mark.parametrize(
    ("cmdline", "comm", "exe", "agent"),
    [
        (b"node\0/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js\0", b"node\n", None, True),
        (b"bash\0-c\0sleep 1\0", b"bash\n", "/usr/bin/bash", False),
        (b"x\0", b"Codex-helper\n", None, True),  # the kernel's name, in any case
        (b"x\0", b"x\n", "/opt/cursor/cursor", True),  # only the exe says it
        (b"python\0a\0b\0claude\0", b"python\n", None, False),  # a 4th argument is not looked at
        (b"", b"kworker/0:1\n", None, False),  # a kernel thread: no command line, no exe
    ],
)
def test_what_proc_alone_tells_of_a_new_process(
    tmp_path: Path, cmdline: bytes, comm: bytes, exe: str | None, agent: bool
) -> None:
    (tmp_path / "cmdline").write_bytes(cmdline)
    (tmp_path / "comm").write_bytes(comm)
    if exe is not None:
        (tmp_path / "exe").symlink_to(exe)
    assert processes._mentions_agent(str(tmp_path)) is agent


def test_a_process_gone_before_its_command_line_is_read_is_read_again(tmp_path: Path) -> None:
    with pytest.raises(ProcessLookupError):
        processes._mentions_agent(str(tmp_path / "4242"))
