"""One pass over the process table per poll, frozen, so every source asks the same table.

Only the processes whose name, exe or command line mention an agent are kept, and their costly
attributes (cwd, open files) are read lazily per pid, once per poll, by the source that needs them.
On Linux a process already seen costs one read of its `/proc/<pid>/stat` (`scan_procfs`), and
a new one that names no agent is dropped from its `/proc` files without asking psutil (which is
then not even imported when no agent runs); elsewhere psutil reads every process each time.
Tests build a `ProcessTable` from recorded process dumps (`../shared/samples/real-clients/live`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

# Substrings that mark a process as possibly an agent's; anything else is dropped at once.
# VS Code hosts Copilot Chat: `code` (Linux /usr/share/code/code), Insiders, VSCodium, and macOS's
# "Visual Studio Code.app/.../Electron".
AGENT_MARKERS = (
    "claude", "codex", "gemini", "copilot", "cursor", "opencode",
    "/code", "code-insiders", "codium", "visual studio code", "vscode", "windsurf", "positron",
)  # fmt: skip
_AGENT_MARKER_BYTES = tuple(marker.encode() for marker in AGENT_MARKERS)


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    name: str
    exe: str
    cmdline: tuple[str, ...]
    create_time: float
    ppid: int
    cwd: str | None = None
    open_files: tuple[str, ...] | None = None  # None: not read (or not readable)

    @property
    def argv_text(self) -> str:
        return " ".join(self.cmdline)


@dataclass
class ProcessTable:
    """Processes that may be agents. `cwd_of` / `open_files_of` read lazily and cache."""

    processes: dict[int, ProcessInfo] = field(default_factory=dict)
    _read_cwd: Callable[[int], str | None] | None = None
    _read_files: Callable[[int], tuple[str, ...] | None] | None = None
    _cwd_cache: dict[int, str | None] = field(default_factory=dict)
    _files_cache: dict[int, tuple[str, ...] | None] = field(default_factory=dict)

    def __iter__(self) -> Iterator[ProcessInfo]:
        return iter(self.processes.values())

    def get(self, pid: int) -> ProcessInfo | None:
        return self.processes.get(pid)

    def cwd_of(self, pid: int) -> str | None:
        info = self.processes.get(pid)
        if info is not None and info.cwd is not None:
            return info.cwd
        if self._read_cwd is None:
            return None
        if pid not in self._cwd_cache:
            self._cwd_cache[pid] = self._read_cwd(pid)
        return self._cwd_cache[pid]

    def open_files_of(self, pid: int) -> tuple[str, ...]:
        info = self.processes.get(pid)
        if info is not None and info.open_files is not None:
            return info.open_files
        if self._read_files is None:
            return ()
        if pid not in self._files_cache:
            self._files_cache[pid] = self._read_files(pid)
        return self._files_cache[pid] or ()

    def children_of(self, pid: int) -> list[ProcessInfo]:
        return [p for p in self.processes.values() if p.ppid == pid]

    @classmethod
    def from_infos(cls, infos: Iterable[ProcessInfo]) -> ProcessTable:
        return cls({p.pid: p for p in infos})

    @classmethod
    def scan(cls) -> ProcessTable:
        """Read the live process table (names and command lines only)."""
        global _SEEN
        if sys.platform.startswith("linux") and os.path.isdir(PROC_ROOT):
            found, _SEEN = scan_procfs(PROC_ROOT, _SEEN, _linux_info)
        else:
            found = _scan_psutil()
        return cls(found, _read_cwd=_psutil_cwd, _read_files=_psutil_open_files)


# -- reading the table ------------------------------------------------------------------------

PROC_ROOT = "/proc"
_ATTRS = ["pid", "name", "exe", "cmdline", "create_time", "ppid"]


@dataclass(frozen=True)
class SeenProcess:
    """A process as the last scan read it: `stamp` from its stat line, and its info (None: not
    an agent's)."""

    stamp: bytes
    info: ProcessInfo | None


# The last Linux scan's processes by pid. Replaced whole by each scan (never changed in place),
# so scans from two threads each see a complete table.
_SEEN: dict[int, SeenProcess] = {}


def scan_procfs(
    proc_root: str, seen: dict[int, SeenProcess], read_info: Callable[[int], ProcessInfo | None]
) -> tuple[dict[int, ProcessInfo], dict[int, SeenProcess]]:
    """The agents' processes, and what to pass as `seen` to the next scan.

    Each process costs one read of `<pid>/stat` per scan. Name, exe and command line are read
    (by `read_info`, raising OSError when it cannot) only for a process whose stamp is new.
    Those can change while pid and start time stay, so the stamp holds more than the start time
    (which tells a reused pid): the name (set anew by exec, prctl and setproctitle) and the
    addresses of the code, data, stack, arguments and environment (all new after any exec, even
    of the same program, e.g. node exec'ing node with another script; the kernel shows them for
    the user's own processes, as agents are, and 0 for others', which the name and start time
    still tell apart). The parent pid can change (an orphan is re-parented): it is taken from
    every read.
    """
    found: dict[int, ProcessInfo] = {}
    now: dict[int, SeenProcess] = {}
    try:
        pids = sorted(int(n) for n in os.listdir(proc_root) if n.isdigit())
    except OSError:
        return found, now
    for pid in pids:
        data = _read_proc_file(f"{proc_root}/{pid}/stat")
        if data is None:  # exited since the listing, or hidden from this user
            continue
        # Field 2, the name in parentheses, may itself hold spaces and ")": fields from 3 on
        # follow the last ")". `fields[n - 3]` is field n of proc(5).
        rpar = data.rfind(b")")
        fields = data[rpar + 2 :].split()
        if len(fields) < 20:
            continue
        stamp = b" ".join([data[data.find(b"(") + 1 : rpar], fields[19], *fields[23:26],
                           *fields[42:49]])  # fmt: skip
        last = seen.get(pid)
        if last is None or last.stamp != stamp:
            try:
                last = SeenProcess(stamp, read_info(pid))
            except (OSError, KeyError, TypeError, ValueError):
                continue  # not cached: read again on the next scan
        now[pid] = last
        info = last.info
        if info is not None:
            ppid = int(fields[1])
            found[pid] = info if info.ppid == ppid else replace(info, ppid=ppid)
    return found, now


def _read_proc_file(path: str) -> bytes | None:
    # os.read rather than open(): no buffered file object per process (a third of the time).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = [os.read(fd, 4096)]
        while len(chunks[-1]) == 4096:  # a stat line is ~300 bytes; never cut one short anyway
            chunks.append(os.read(fd, 4096))
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _linux_info(pid: int) -> ProcessInfo | None:
    """The process's info; None when it is not an agent's.

    psutil's name is the kernel's `comm` or the last part of argv[0], so a process whose comm,
    exe link and first three arguments (read here straight from /proc) name no agent would be
    dropped by `_info_of` too: only the few others cost psutil's reads.
    """
    if not _mentions_agent(f"{PROC_ROOT}/{pid}"):
        return None
    import psutil

    try:
        return _info_of(psutil.Process(pid).as_dict(_ATTRS))
    except psutil.Error as exc:
        raise ProcessLookupError(f"cannot read process {pid}: {exc}") from exc


def _mentions_agent(folder: str) -> bool:
    cmdline = _read_proc_file(f"{folder}/cmdline")
    if cmdline is None:
        raise ProcessLookupError(f"{folder} is gone")
    parts = cmdline.split(b"\0")[:3]
    parts.append(_read_proc_file(f"{folder}/comm") or b"")
    # Unreadable for another user's process or a kernel thread: psutil has no exe for it either.
    with contextlib.suppress(OSError):
        parts.append(os.fsencode(os.readlink(f"{folder}/exe")))
    haystack = b" ".join(parts).lower()
    return any(marker in haystack for marker in _AGENT_MARKER_BYTES)


def _scan_psutil() -> dict[int, ProcessInfo]:
    import psutil

    found: dict[int, ProcessInfo] = {}
    for proc in psutil.process_iter(_ATTRS):
        try:
            info = _info_of(proc.info)
        except (psutil.Error, KeyError, TypeError, ValueError):
            continue
        if info is not None:
            found[info.pid] = info
    return found


def _info_of(attrs: dict[str, Any]) -> ProcessInfo | None:
    cmdline = tuple(attrs.get("cmdline") or ())
    name = attrs.get("name") or ""
    exe = attrs.get("exe") or ""
    haystack = f"{name} {exe} {' '.join(cmdline[:3])}".lower()
    if not any(marker in haystack for marker in AGENT_MARKERS):
        return None
    return ProcessInfo(
        pid=attrs["pid"],
        name=name,
        exe=exe,
        cmdline=cmdline,
        create_time=float(attrs.get("create_time") or 0.0),
        ppid=int(attrs.get("ppid") or 0),
    )


def _psutil_cwd(pid: int) -> str | None:
    import psutil

    try:
        return psutil.Process(pid).cwd()
    except (psutil.Error, OSError):
        return None


def _psutil_open_files(pid: int) -> tuple[str, ...] | None:
    import psutil

    try:
        return tuple(f.path for f in psutil.Process(pid).open_files())
    except (psutil.Error, OSError):
        return None


def pid_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)
