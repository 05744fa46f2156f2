"""A session's usage history as the chart draws it: context fill and cumulative tokens over time.

Pure (no Qt): the chart widget only maps these numbers to pixels. Samples are written by the
poller whenever a session's records change, so the points are uneven in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from llm_session_manager.core.models import UsageSample

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
