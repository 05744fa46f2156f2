"""One psutil pass per poll, frozen, so every source asks the same table.

Only the processes whose name, exe or command line mention an agent are kept, and their costly
attributes (cwd, open files) are read lazily per pid, once per poll, by the source that needs them.
Tests build a `ProcessTable` from recorded process dumps (`../shared/samples/real-clients/live`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import psutil

log = logging.getLogger(__name__)

# Substrings that mark a process as possibly an agent's; anything else is dropped at once.
# VS Code hosts Copilot Chat: `code` (Linux /usr/share/code/code), Insiders, VSCodium, and macOS's
# "Visual Studio Code.app/.../Electron".
AGENT_MARKERS = (
    "claude", "codex", "gemini", "copilot", "cursor", "opencode",
    "/code", "code-insiders", "codium", "visual studio code", "vscode",
)  # fmt: skip


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
        """Read the live process table with psutil (names and command lines only)."""
        found: dict[int, ProcessInfo] = {}
        for proc in psutil.process_iter(["pid", "name", "exe", "cmdline", "create_time", "ppid"]):
            try:
                info = proc.info
                cmdline = tuple(info.get("cmdline") or ())
                name = info.get("name") or ""
                exe = info.get("exe") or ""
                haystack = f"{name} {exe} {' '.join(cmdline[:3])}".lower()
                if not any(marker in haystack for marker in AGENT_MARKERS):
                    continue
                found[info["pid"]] = ProcessInfo(
                    pid=info["pid"],
                    name=name,
                    exe=exe,
                    cmdline=cmdline,
                    create_time=float(info.get("create_time") or 0.0),
                    ppid=int(info.get("ppid") or 0),
                )
            except (psutil.Error, KeyError, TypeError, ValueError):
                continue
        return cls(found, _read_cwd=_psutil_cwd, _read_files=_psutil_open_files)


def _psutil_cwd(pid: int) -> str | None:
    try:
        return psutil.Process(pid).cwd()
    except (psutil.Error, OSError):
        return None


def _psutil_open_files(pid: int) -> tuple[str, ...] | None:
    try:
        return tuple(f.path for f in psutil.Process(pid).open_files())
    except (psutil.Error, OSError):
        return None


def pid_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)
