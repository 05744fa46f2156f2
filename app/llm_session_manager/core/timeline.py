"""A session's token history as its agent recorded it: what the details chart draws.

The poller's usage samples only exist from the moment the app watched a session; the agent's
own records go back to the session's first request. A source that can read them (Claude Code,
Codex, Gemini CLI, Copilot CLI) gives a `TimelineBuilder` that is fed the session's record lines,
in file order, and returns a `Timeline`: cumulative tokens and context size per request, and the
compactions.

Memory stays bounded: `PointLog` thins its points whenever they pass twice `MAX_POINTS`, and a
timeline never has more than `MAX_POINTS` points plus its compactions (which are always kept, so
every ▼ stays on the chart, as does the last point: the session's total now).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from llm_session_manager.core.tail import Cursor, FileStat, read_appended

# A chart a few hundred pixels wide cannot show more.
MAX_POINTS = 300


@dataclass(frozen=True)
class TimelinePoint:
    at: float  # seconds since the epoch
    total_tokens: int  # cumulative, in the convention of `Usage.total`
    context_tokens: int | None  # what was in the window then; None when that is unknown


@dataclass(frozen=True)
class Timeline:
    """Points in time order; `compactions` are the times the context was compacted, each of
    which is also a point (with the context right after it, where the record says)."""

    points: tuple[TimelinePoint, ...] = ()
    compactions: tuple[float, ...] = ()


class TimelineBuilder(Protocol):
    """Incremental reading of one session's timeline: the files it needs and a line at a time.

    `feed` takes one complete line (without its newline) of one of `paths`, in file order; it
    raises ValueError for a line it cannot read (the line is then skipped). `timeline()` may be
    called between feeds: more lines appended later are fed to the same builder.
    """

    @property
    def paths(self) -> tuple[str, ...]: ...

    def feed(self, path: str, line: bytes) -> None: ...

    def timeline(self) -> Timeline: ...


class OneFileTimeline:
    """What the builders over one record file share: the file (none when the session has none
    left) and the points drawn so far. A subclass's `feed` adds to `_log`."""

    def __init__(self, path: str | None) -> None:
        self._paths = () if path is None else (path,)
        self._log = PointLog()

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths

    def timeline(self) -> Timeline:
        return self._log.timeline()


def own_share(timeline: Timeline, total: int) -> Timeline:
    """A forked session's timeline with the tokens it copied from its parent taken out.

    The fork's records carry its parent's requests, counted in the parent (`claude_forks.py`);
    they are its history's first requests, so the cumulative line counts from 0 at the fork and
    ends at the session's own `total`. The context line is the records' as they are.
    """
    if not timeline.points:
        return timeline
    copied = timeline.points[-1].total_tokens - total
    if copied <= 0:
        return timeline
    points = tuple(replace(p, total_tokens=max(0, p.total_tokens - copied))
                   for p in timeline.points)  # fmt: skip
    return Timeline(points, timeline.compactions)


def newest(paths: Sequence[str]) -> str | None:
    """The copy written last; a file that cannot be stat'ed loses (and fails its read later)."""
    best: tuple[float, str] | None = None
    for path in paths:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = -1.0
        if best is None or mtime > best[0]:
            best = (mtime, path)
    return None if best is None else best[1]


def read_timeline(builder: TimelineBuilder) -> Timeline:
    """Stream every file of `builder` once, line by line (never a whole file in memory).

    A half-written last line is left out, as the poller leaves it for its next read. OSError
    (a file gone or unreadable) is the caller's to handle.
    """
    for path in builder.paths:
        read_appended(path, Cursor(), FileStat.of(path), partial(builder.feed, path))
    return builder.timeline()


class PointLog:
    """Points added in time order, thinned to stay within the bound; compactions survive."""

    def __init__(self, limit: int = MAX_POINTS) -> None:
        self._limit = max(limit, 2)
        self._points: list[TimelinePoint] = []
        self._kept: list[bool] = []  # a compaction's point: never thinned away
        self._compactions: list[float] = []

    def __len__(self) -> int:
        return len(self._points)

    def add(self, at: float, total: int, context: int | None) -> None:
        self._append(TimelinePoint(at, total, context), False)

    def add_compaction(self, at: float, total: int, context_after: int | None) -> None:
        self._compactions.append(at)
        self._append(TimelinePoint(at, total, context_after), True)

    def clear(self) -> None:
        self._points.clear()
        self._kept.clear()
        self._compactions.clear()

    def timeline(self) -> Timeline:
        chosen = thin(self._points, self._kept, self._limit)
        return Timeline(tuple(self._points[i] for i in chosen), tuple(self._compactions))

    def _append(self, point: TimelinePoint, kept: bool) -> None:
        self._points.append(point)
        self._kept.append(kept)
        # Thinned at twice the bound, not at the bound: each thinning then covers many points.
        if len(self._points) > 2 * self._limit:
            chosen = thin(self._points, self._kept, self._limit)
            self._points = [self._points[i] for i in chosen]
            self._kept = [self._kept[i] for i in chosen]


def thin(points: list[TimelinePoint], kept: list[bool], limit: int) -> list[int]:
    """The indexes of at most `limit` points to draw (more only if the compactions alone are
    more), in order: the first, the last and every kept point, and from each run of the others
    the one with the largest context, so the peaks before compactions still show."""
    n = len(points)
    if n <= limit:
        return list(range(n))
    forced = {0, n - 1} | {i for i, k in enumerate(kept) if k}
    others = [i for i in range(n) if i not in forced]
    budget = limit - len(forced)
    chosen = set(forced)
    if budget > 0:
        for j in range(budget):
            run = others[j * len(others) // budget : (j + 1) * len(others) // budget]
            if run:
                chosen.add(max(reversed(run), key=lambda i: _context_rank(points[i])))
    return sorted(chosen)


def _context_rank(point: TimelinePoint) -> int:
    return -1 if point.context_tokens is None else point.context_tokens
