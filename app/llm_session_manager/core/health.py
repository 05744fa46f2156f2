"""The health score of a session: four factors, each 0-100, weighted into one score and a level.

Every weight and threshold comes from `config.health` (config.py documents each):
- tokens: how full the context window is now (not lifetime tokens, which say nothing about the
  model's working room), minus points per compaction: each one replaces the history with a lossy
  summary ("context rot"), so a session that compacted often is worse off than its fill suggests.
- duration: how long the session has run.
- activity: time since its last record, judged by its live state: a live session idle or waiting
  for its user is parked, not rotting, so it never drops below a floor; an ended one fades to 0.
- errors: tool and API errors, an error in the last minutes counting several times.
A factor the records cannot tell gets the configured neutral score and says so in its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from llm_session_manager.config import Config, HealthConfig, HealthWeights
from llm_session_manager.core.accounting import resolve_context
from llm_session_manager.core.models import (
    Context,
    Errors,
    Health,
    HealthFactor,
    HealthLevel,
    LiveState,
    Session,
    SessionFacts,
)

_SEVERITY: dict[HealthLevel, int] = {"healthy": 0, "warning": 1, "critical": 2}


def _ramp(value: float, ok: float, bad: float) -> float:
    """100 at or below `ok`, 0 at or above `bad`, linear in between."""
    if value <= ok:
        return 100.0
    if value >= bad:
        return 0.0
    return 100.0 * (bad - value) / (bad - ok)


def _minutes(later: datetime, earlier: datetime) -> float:
    # Sources write aware UTC times; a naive one is taken as UTC rather than crashing the poll.
    if later.tzinfo is None:
        later = later.replace(tzinfo=UTC)
    if earlier.tzinfo is None:
        earlier = earlier.replace(tzinfo=UTC)
    return (later - earlier).total_seconds() / 60.0


def format_tokens(count: int) -> str:
    """182_400 -> "182k", 1_250_000 -> "1.2M" (the way the UI writes token counts)."""
    if count < 1000:
        return str(count)
    if round(count / 1000) < 1000:
        return f"{round(count / 1000)}k"
    return f"{count / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


def format_minutes(minutes: float) -> str:
    """25 -> "25m", 130 -> "2h 10m", 3000 -> "2d 2h"."""
    whole = max(0, int(minutes))
    if whole < 60:
        return f"{whole}m"
    hours, mins = divmod(whole, 60)
    if hours < 48:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _tokens(context: Context, hc: HealthConfig, weight: float) -> HealthFactor:
    penalty = context.compactions * hc.compaction_penalty
    rot = ""
    if context.compactions:
        rot = f", {_plural(context.compactions, 'compaction')} (-{penalty:g})"
    fill = context.fill
    if fill is None or context.tokens is None or context.window is None:
        score = max(0.0, hc.unknown_score - penalty)
        reason = f"context size unknown (scored {hc.unknown_score:g}){rot}"
        return HealthFactor("tokens", "unknown", score, weight, reason)
    score = max(0.0, _ramp(fill, hc.fill_ok, hc.fill_bad) - penalty)
    raw = f"{format_tokens(context.tokens)} of {format_tokens(context.window)}"
    reason = f"context {raw} ({fill:.0%}){rot}"
    return HealthFactor("tokens", raw, score, weight, reason)


def _duration(
    facts: SessionFacts, live: LiveState, hc: HealthConfig, now: datetime, weight: float
) -> HealthFactor:
    if facts.started_at is None:
        reason = f"start time unknown (scored {hc.unknown_score:g})"
        return HealthFactor("duration", "unknown", hc.unknown_score, weight, reason)
    # A live session is still ageing; an ended one stopped at its last record.
    end = now if live.state != "ended" or facts.last_activity_at is None else facts.last_activity_at
    minutes = max(0.0, _minutes(end, facts.started_at))
    score = _ramp(minutes / 60.0, hc.duration_ok_hours, hc.duration_bad_hours)
    raw = format_minutes(minutes)
    reason = f"{'lasted' if live.state == 'ended' else 'running for'} {raw}"
    return HealthFactor("duration", raw, score, weight, reason)


def _activity(
    facts: SessionFacts, live: LiveState, hc: HealthConfig, now: datetime, weight: float
) -> HealthFactor:
    if live.state == "active":
        return HealthFactor("activity", "active", 100.0, weight, "working now")
    if facts.last_activity_at is None:
        reason = f"{live.state}, last activity unknown (scored {hc.unknown_score:g})"
        return HealthFactor("activity", "unknown", hc.unknown_score, weight, reason)
    minutes = max(0.0, _minutes(now, facts.last_activity_at))
    score = _ramp(minutes, hc.stale_after_minutes, hc.abandoned_after_hours * 60.0)
    raw = format_minutes(minutes)
    if live.state == "ended":
        return HealthFactor("activity", raw, score, weight, f"ended, last activity {raw} ago")
    detail = f" ({live.detail})" if live.detail else ""
    what = "waiting for you" if live.state == "waiting" else "idle"
    score = max(score, hc.live_idle_floor)
    return HealthFactor("activity", raw, score, weight, f"{what}{detail} for {raw}")


def _errors(errors: Errors, hc: HealthConfig, now: datetime, weight: float) -> HealthFactor:
    # One cutoff compared with each kept time, not each time's age worked out in minutes: this
    # runs for every session on every judgement, each with up to 20 kept times.
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    since = now - timedelta(minutes=hc.recent_error_minutes)
    recent = sum(
        1 for at in errors.recent
        if since <= (at if at.tzinfo is not None else at.replace(tzinfo=UTC)) <= now
    )  # fmt: skip
    total = max(errors.total, recent)
    recent = min(recent, total)
    weighted = (total - recent) + recent * hc.recent_error_weight
    score = _ramp(weighted, 0.0, hc.errors_bad)
    raw = f"{errors.tool} tool, {errors.api} API"
    if total == 0:
        return HealthFactor("errors", raw, score, weight, "no errors")
    reason = f"{_plural(total, 'error')} ({raw})"
    if recent:
        reason += f", {recent} in the last {format_minutes(hc.recent_error_minutes)}"
    return HealthFactor("errors", raw, score, weight, reason)


def level_for(score: float, hc: HealthConfig) -> HealthLevel:
    if score >= hc.healthy_min:
        return "healthy"
    if score >= hc.warning_min:
        return "warning"
    return "critical"


def assess(facts: SessionFacts, live: LiveState, config: Config, now: datetime) -> Health:
    """Score one session at time `now` (passed in, so tests and replays control the clock)."""
    hc = config.health
    # A Config built in code skips the loader's checks; scale here so the score stays 0-100.
    weights = hc.weights if hc.weights.total > 0 else HealthWeights()
    total = weights.total
    context = facts.context if facts.context.window else resolve_context(facts, config)
    factors = (
        _tokens(context, hc, weights.tokens / total),
        _duration(facts, live, hc, now, weights.duration / total),
        _activity(facts, live, hc, now, weights.activity / total),
        _errors(facts.errors, hc, now, weights.errors / total),
    )
    score = round(sum(f.score * f.weight for f in factors), 1)
    return Health(score=score, level=level_for(score, hc), factors=factors)


def aggregate_level(sessions: Iterable[Session]) -> HealthLevel | None:
    """The worst level among live sessions (not ended, not imported) that have a health.

    None when there is no such session: ended sessions do not colour the tray.
    """
    worst: HealthLevel | None = None
    for session in sessions:
        if session.imported or session.live.state == "ended" or session.health is None:
            continue
        level = session.health.level
        if worst is None or _SEVERITY[level] > _SEVERITY[worst]:
            worst = level
    return worst
