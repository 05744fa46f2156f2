"""Reading record files from their first byte, on every core when there is a lot to read.

A cold index (a first run, or a new data folder) reads every transcript whole; parsing JSON lines
in Python is then most of the run, and each file's accumulator is independent of the others. So
when the files to read from 0 add up to `PARALLEL_MIN_BYTES` or more, they are shared out by size
between this process and forked workers, each worker sends back its accumulators' dumps (the
same dumps the store keeps), and they are restored here. Measured on 2 cores over 201 MiB: 1.28 s
serial, 0.49 s shared.

Forking is only safe in a process with one thread, so the tray app (which polls in its worker
thread) reads serially; the CLI, single-threaded, shares.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_session_manager.core.sources.base import FileAccumulator, Source, TrackedFile
from llm_session_manager.core.tail import Cursor, FileStat, TailResult, read_appended

log = logging.getLogger(__name__)

PARALLEL_MIN_BYTES = 32 << 20
MAX_WORKERS = 4


@dataclass(frozen=True)
class FreshJob:
    source: Source
    tracked: TrackedFile
    stat: FileStat


@dataclass
class FreshRead:
    """One file read from 0: its accumulator and the tail result, or the error that stopped it."""

    acc: FileAccumulator | None
    result: TailResult | None
    error: OSError | None = None


# The jobs of the current shared read: forked workers inherit them, so only indexes travel.
_JOBS: Sequence[FreshJob] = ()
_MAX_LINE = 0


def read_fresh(jobs: Sequence[FreshJob], max_line: int) -> list[FreshRead]:
    """Read each job's file from its first byte; results in the order of `jobs`."""
    total = sum(job.stat.size for job in jobs)
    workers = _workers_for(total)
    if workers > 1:
        try:
            return _shared(jobs, max_line, workers)
        except Exception as exc:  # a worker that cannot start or died: read it all here
            log.warning("reading on %d cores failed (%s); reading serially", workers, exc)
    return [_read(job.source, job.tracked, job.stat, max_line) for job in jobs]


def _workers_for(total_bytes: int) -> int:
    if total_bytes < PARALLEL_MIN_BYTES or not sys.platform.startswith("linux"):
        return 1
    if _os_threads() != 1:  # fork copies one thread: locks held by the others stay held
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _os_threads() -> int:
    """Threads of this process as the kernel counts them: Qt's and other native threads too,
    which Python's threading module does not know about."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0  # unknown: do not fork


def _read(source: Source, tracked: TrackedFile, stat: FileStat, max_line: int) -> FreshRead:
    acc = source.new_accumulator(tracked)
    try:
        result = read_appended(tracked.path, Cursor(), stat, acc.feed, max_line_bytes=max_line)
    except OSError as exc:
        return FreshRead(None, None, exc)
    return FreshRead(acc, result)


def _shared(jobs: Sequence[FreshJob], max_line: int, workers: int) -> list[FreshRead]:
    global _JOBS, _MAX_LINE
    groups: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index in sorted(range(len(jobs)), key=lambda i: -jobs[i].stat.size):
        lightest = loads.index(min(loads))  # largest first, each to the least loaded group
        groups[lightest].append(index)
        loads[lightest] += jobs[index].stat.size
    _JOBS, _MAX_LINE = jobs, max_line
    results: list[FreshRead | None] = [None] * len(jobs)
    # Imported here: only a cold read of many files forks, and the import costs every CLI start.
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers - 1) as pool:
            pending = [pool.apply_async(_work, (group,)) for group in groups[1:]]
            for index in groups[0]:  # this process takes a share too
                job = jobs[index]
                results[index] = _read(job.source, job.tracked, job.stat, max_line)
            for waiting in pending:
                for index, dump, result, error in waiting.get():
                    job = jobs[index]
                    acc = job.source.restore(job.tracked, dump) if dump is not None else None
                    results[index] = FreshRead(acc, result, error)
    finally:
        _JOBS, _MAX_LINE = (), 0
    return [r if r is not None else FreshRead(None, None, OSError("not read")) for r in results]


def _work(
    indexes: list[int],
) -> list[tuple[int, dict[str, Any] | None, TailResult | None, OSError | None]]:
    """In a forked worker: read the files and send back dumps, which pickle small and fast."""
    out: list[tuple[int, dict[str, Any] | None, TailResult | None, OSError | None]] = []
    for index in indexes:
        job = _JOBS[index]
        read = _read(job.source, job.tracked, job.stat, _MAX_LINE)
        out.append((index, read.acc.dump() if read.acc is not None else None, read.result,
                    read.error))  # fmt: skip
    return out
