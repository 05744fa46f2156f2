"""Tokens and cost per agent in rolling windows (5 hours, 7 days), with burn rate and run-out;
and the tokens spent since local midnight, which the tray tooltip shows.

Always an estimate from local records. A session's records give its total; *when* the tokens were
spent comes from the usage samples the poller writes each time a session's total changes: the
growth between two samples is placed at the later sample's time, but never after the session's
last record (a CLI run after a quiet day must not put the day's tokens at "now") nor before the
earlier sample. A session's first sample, and a total with no sample yet, sit at its last record:
a cold start that reads months of history must not count it as spent in the last hour.
Cost is the session's estimated cost shared out by tokens.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from llm_session_manager.config import Config
from llm_session_manager.core.models import (
    Session,
    SessionKey,
    TokensToday,
    UsageSample,
    UsageWindow,
)

FIVE_HOURS = timedelta(hours=5)
WEEK = timedelta(days=7)
WindowName = Literal["5h", "week"]
WINDOWS: tuple[tuple[WindowName, timedelta], ...] = (("5h", FIVE_HOURS), ("week", WEEK))


@dataclass(frozen=True)
class Spend:
    """Tokens of one session placed at one moment, with their share of the session's cost."""

    key: SessionKey
    at: datetime
    tokens: int
    cost_usd: float | None


def place_usage(
    sessions: Sequence[Session],
    samples: Mapping[SessionKey, Sequence[UsageSample]],
    now: datetime,
) -> list[Spend]:
    """Every session's tokens placed in time (see the module docstring for the rule)."""
    placed: list[Spend] = []
    for session in sessions:
        if session.imported:  # a brief brought in from elsewhere: no tokens spent here
            continue
        total = session.facts.usage.total
        if total <= 0:
            continue
        per_token = session.cost_usd / total if session.cost_usd is not None else None
        last = min(session.facts.last_activity_at or now, now)

        def spend(at: datetime, tokens: int, key: SessionKey = session.key,
                  rate: float | None = per_token) -> Spend:
            return Spend(key, at, tokens, None if rate is None else rate * tokens)

        seen = 0
        previous: datetime | None = None
        for sample in sorted(samples.get(session.key, ()), key=lambda s: s.at):
            grown = sample.total_tokens - seen
            if grown > 0:
                at = min(sample.at, last)
                placed.append(spend(max(at, previous) if previous is not None else at, grown))
            # A total that shrank (a transcript replaced) is the new base, not negative usage.
            seen, previous = sample.total_tokens, sample.at
        if total > seen:
            at = last if previous is None else max(last, min(previous, now))
            placed.append(spend(at, total - seen))
    return placed


def _sum_cost(items: Sequence[Spend]) -> float | None:
    """None when tokens were spent but none of them has a price; else the priced part."""
    costs = [s.cost_usd for s in items if s.cost_usd is not None]
    if items and not costs:
        return None
    return sum(costs)


def spent_between(placed: Sequence[Spend], start: datetime, end: datetime) -> list[Spend]:
    return [s for s in placed if start < s.at <= end]


def local_midnight(now: datetime) -> datetime:
    """The start of `now`'s day in the system's time zone (DST-correct: mktime decides)."""
    day = now.astimezone().date()
    return datetime.fromtimestamp(time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1)),
                                  tz=UTC)


def tokens_today(
    sessions: Sequence[Session], placed: Sequence[Spend], now: datetime
) -> TokensToday:
    """What was spent since local midnight. A session whose tokens were counted with a tokenizer
    marks the figure counted, as the window marks such a session's own figure."""
    since = local_midnight(now)
    today = [s for s in placed if since < s.at <= now]
    counted_keys = {s.key for s in sessions if s.facts.usage.source == "counted"}
    return TokensToday(
        since=since.astimezone(),
        tokens=sum(s.tokens for s in today),
        counted=any(s.key in counted_keys and s.tokens for s in today),
    )


def usage_windows(
    sessions: Sequence[Session],
    samples: Mapping[SessionKey, Sequence[UsageSample]],
    config: Config,
    now: datetime,
    placed: Sequence[Spend] | None = None,
) -> list[UsageWindow]:
    """A 5-hour and a 7-day window for each agent with tokens in the last 7 days or a limit.

    burn_tokens_per_hour is the tokens of the last `recommend.burn_minutes`, per hour. With a
    limit configured, projected_run_out = now + (limit - used) / burn; `now` when the limit is
    already reached; None without burn.
    """
    if placed is None:
        placed = place_usage(sessions, samples, now)
    burn_span = timedelta(minutes=config.recommend.burn_minutes)
    agents = sorted({s.key.agent for s in sessions if not s.imported})
    out: list[UsageWindow] = []
    for agent in agents:
        mine = [s for s in placed if s.key.agent == agent]
        limits = config.recommend.limit(agent)
        burn_tokens = sum(s.tokens for s in spent_between(mine, now - burn_span, now))
        burn = burn_tokens / (burn_span.total_seconds() / 3600.0)
        week = spent_between(mine, now - WEEK, now)
        if not week and not (limits.five_hour_tokens or limits.week_tokens):
            continue
        for name, span in WINDOWS:
            inside = week if span == WEEK else spent_between(mine, now - span, now)
            tokens = sum(s.tokens for s in inside)
            limit = (limits.five_hour_tokens if name == "5h" else limits.week_tokens) or None
            out.append(
                UsageWindow(
                    agent=agent,
                    window=name,
                    start=now - span,
                    end=now,
                    tokens=tokens,
                    cost_usd=_sum_cost(inside),
                    burn_tokens_per_hour=burn,
                    limit_tokens=limit,
                    projected_run_out=_run_out(tokens, limit, burn, now),
                )
            )
    return out


def _run_out(used: int, limit: int | None, burn: float, now: datetime) -> datetime | None:
    if limit is None:
        return None
    if used >= limit:
        return now
    if burn <= 0:
        return None
    return now + timedelta(hours=(limit - used) / burn)
