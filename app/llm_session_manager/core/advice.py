"""Advice across polls: a week of usage samples in memory, recommendations, usage windows, and
the cooldown that keeps one condition from being announced twice.

The poller calls `Advisor.advise` once per poll. The samples are read from the store once, on
the first call (the poller has just written that poll's samples); after that the advisor records
a sample itself whenever a session's total changes, exactly as the poller writes them, so a poll
costs no database read. Advice must never fail a poll: an error becomes a Problem.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from llm_session_manager.config import Config
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.models import (
    Problem,
    Recommendation,
    Session,
    SessionKey,
    TokensToday,
    UsageSample,
    UsageWindow,
)
from llm_session_manager.core.recommend import recommend
from llm_session_manager.core.usage_windows import WEEK, place_usage, tokens_today, usage_windows

if TYPE_CHECKING:
    from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)

# Advice that is about no single session (the spend warning) is recorded under this key.
ALL_SESSIONS = SessionKey("all", "all")
# Notification conditions are shared with the tray's own; advice ids get their own prefix.
CONDITION_PREFIX = "advice:"


class NotifiedStore(Protocol):
    def last_notified(self, key: SessionKey, condition: str) -> datetime | None: ...
    def record_notified(self, key: SessionKey, condition: str, at: datetime) -> None: ...


class RecommendationLog:
    """Which recommendations were already shown, so one condition is new once per cooldown.

    With a store the times persist (the tray, the CLI and a restart share them); without one, or
    when the store fails, they are kept in memory for the life of this object.
    """

    def __init__(self, cooldown: timedelta, store: NotifiedStore | None = None) -> None:
        self._cooldown = cooldown
        self._store = store
        self._memory: dict[str, datetime] = {}

    def fresh(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> list[Recommendation]:
        """The recommendations not shown within the cooldown; records them as shown at `now`."""
        new: list[Recommendation] = []
        for rec in recommendations:
            last = self._last(rec)
            if last is not None and now - last < self._cooldown:
                continue
            self._record(rec, now)
            new.append(rec)
        return new

    def _last(self, rec: Recommendation) -> datetime | None:
        remembered = self._memory.get(rec.id)
        if self._store is None:
            return remembered
        try:
            stored = self._store.last_notified(_key_of(rec), CONDITION_PREFIX + rec.id)
        except StoreError as exc:
            log.warning("cooldown times unavailable (%s); keeping them in memory", exc)
            return remembered
        return max((t for t in (stored, remembered) if t is not None), default=None)

    def _record(self, rec: Recommendation, now: datetime) -> None:
        self._memory[rec.id] = now
        if self._store is None:
            return
        try:
            self._store.record_notified(_key_of(rec), CONDITION_PREFIX + rec.id, now)
        except StoreError as exc:
            log.warning("cannot record advice %s (%s); kept in memory", rec.id, exc)


def _key_of(rec: Recommendation) -> SessionKey:
    return rec.keys[0] if rec.keys else ALL_SESSIONS


@dataclass(frozen=True)
class Advice:
    recommendations: tuple[Recommendation, ...] = ()
    usage_windows: tuple[UsageWindow, ...] = ()
    today: TokensToday | None = None


class Advisor:
    def __init__(self, store: Store | None = None) -> None:
        self._store = store
        self._samples: dict[SessionKey, list[UsageSample]] | None = None

    def advise(
        self, sessions: Sequence[Session], config: Config, now: datetime, problems: list[Problem]
    ) -> Advice:
        try:
            samples = self._update(sessions, now, problems)
            placed = place_usage(sessions, samples, now)
            return Advice(
                tuple(recommend(sessions, config, now, samples)),
                tuple(usage_windows(sessions, samples, config, now, placed)),
                tokens_today(sessions, placed, now),
            )
        except Exception as exc:  # advice is an extra: a bug here must not cost the poll
            log.exception("advice failed")
            problems.append(Problem("advice", f"cannot compute recommendations: {exc}"))
            return Advice()

    def _update(
        self, sessions: Sequence[Session], now: datetime, problems: list[Problem]
    ) -> dict[SessionKey, list[UsageSample]]:
        if self._samples is None:
            self._samples = self._load(now, problems)
        samples = self._samples
        for session in sessions:
            history = samples.setdefault(session.key, [])
            total = session.facts.usage.total
            if not history or history[-1].total_tokens != total:
                history.append(UsageSample(session.key, now, total))
        _prune(samples, now - WEEK)
        return samples

    def _load(self, now: datetime, problems: list[Problem]) -> dict[SessionKey, list[UsageSample]]:
        if self._store is None:
            return {}
        from llm_session_manager.store.samples import samples_since

        try:
            return samples_since(self._store, now - WEEK)
        except StoreError as exc:
            problems.append(Problem(exc.path, f"usage history unavailable: {exc}"))
            return {}


def _prune(samples: dict[SessionKey, list[UsageSample]], before: datetime) -> None:
    """Drop samples older than `before`, keeping each session's last older one as its base."""
    for history in samples.values():
        old = 0
        while old < len(history) and history[old].at < before:
            old += 1
        if old > 1:
            del history[: old - 1]
