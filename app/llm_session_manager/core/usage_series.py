"""A session's usage history as the chart draws it: context fill and cumulative tokens over time.

Pure (no Qt): the chart widget only maps these numbers to pixels. The history is either the
agent's own record of the session (`core.timeline`: a point per request, compactions as
recorded) or, for agents whose records cannot give one, the samples the poller wrote whenever a
session's records changed (uneven in time; a compaction is inferred from a deep drop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from llm_session_manager.core.models import UsageSample
from llm_session_manager.core.timeline import Timeline

# A compaction replaces the history with a summary: the prompt shrinks to a fraction of itself.
# Ordinary turns never shrink the prompt by this much, so a drop this deep marks one.
COMPACTION_DROP = 0.5


@dataclass(frozen=True)
class SeriesPoint:
    at: float  # seconds since the epoch
    fill: float | None  # 0..1 of the window; None when unknown
    total_tokens: int
    compaction: bool = False  # the context shrank here


@dataclass(frozen=True)
class UsageSeries:
    points: tuple[SeriesPoint, ...]
    start: float
    end: float
    max_tokens: int

    @property
    def compactions(self) -> tuple[SeriesPoint, ...]:
        return tuple(p for p in self.points if p.compaction)


def usage_series(samples: Sequence[UsageSample]) -> UsageSeries:
    ordered = sorted(samples, key=lambda s: _seconds(s.at))
    points: list[SeriesPoint] = []
    previous: int | None = None
    for sample in ordered:
        ctx = sample.context_tokens
        fill = ctx / sample.window if ctx is not None and sample.window else None
        compaction = (
            previous is not None and ctx is not None and ctx < previous * COMPACTION_DROP
        )
        points.append(SeriesPoint(_seconds(sample.at), fill, sample.total_tokens, compaction))
        if ctx is not None:
            previous = ctx
    return _series(points)


def timeline_series(timeline: Timeline, window: int | None) -> UsageSeries:
    """The chart's series of a timeline; `window` (the session's, as resolved now) gives fill."""
    marks = sorted(timeline.compactions)
    points: list[SeriesPoint] = []
    for p in timeline.points:
        ctx = p.context_tokens
        fill = ctx / window if ctx is not None and window else None
        # Each compaction is a point of its own: the first point at or after its time.
        compaction = bool(marks) and p.at >= marks[0]
        if compaction:
            marks.pop(0)
        points.append(SeriesPoint(p.at, fill, p.total_tokens, compaction))
    return _series(points)


def _series(points: list[SeriesPoint]) -> UsageSeries:
    if not points:
        return UsageSeries((), 0.0, 0.0, 0)
    return UsageSeries(
        tuple(points),
        points[0].at,
        points[-1].at,
        max(p.total_tokens for p in points),
    )


def _seconds(value: datetime) -> float:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
