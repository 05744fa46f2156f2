"""Advice a user can act on, each with the numbers behind it: a pure function of the sessions.

Kinds (config: `recommend`, `fill_warnings`, `daily_spend_warning_usd`, `idle_timeout_minutes`):
- restart: critical health, or high fill after repeated compactions. The command starts a fresh
  session in the same folder; the continuation brief is built on demand elsewhere (`brief` None).
- close-idle: a live session whose process waits at a finished turn, with no record for longer
  than `idle_timeout_minutes`; says what it holds (tokens, cost, context).
- merge: two sessions in one folder and branch working on the same thing (shared files touched,
  or enough shared prompt keywords that are also a large part of both), with that evidence.
- token-warning: context fill past the highest crossed `fill_warnings` threshold.
- spend-warning: estimated spend of the last 24 hours (rolling, so no time zone decides where a
  day starts) above `daily_spend_warning_usd`.

Only sessions the user can still act on get advice: live ones, and ended ones whose last record
is within `recommend.recent_minutes` (they may be resumed). Hidden and imported sessions get none.
Ids are stable for one condition, so cooldowns (core/advice.py) can refer to them across polls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from llm_session_manager.config import Config
from llm_session_manager.core.agent_commands import resume_command, start_command
from llm_session_manager.core.health import format_minutes, format_tokens
from llm_session_manager.core.models import (
    LIVE_STATES,
    Recommendation,
    Session,
    SessionKey,
    UsageSample,
)
from llm_session_manager.core.similarity import overlap, same_folder
from llm_session_manager.core.usage_windows import place_usage, spent_between

_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
_SHOWN = 5  # evidence items named in a reason; the count says how many there are


def recommend(
    sessions: Sequence[Session],
    config: Config,
    now: datetime,
    samples: Mapping[SessionKey, Sequence[UsageSample]] | None = None,
) -> list[Recommendation]:
    """Every recommendation that holds at `now`, most severe first.

    `samples` (the store's usage samples) place tokens in time for the spend warning; without
    them each session's tokens count at its last record.
    """
    current = [s for s in sessions if _current(s, config, now)]
    found: list[Recommendation] = []
    restarting: set[SessionKey] = set()
    for session in current:
        advice = _restart(session, config)
        if advice is not None:
            found.append(advice)
            restarting.add(session.key)
    for session in current:
        # A restart already says how full the context is; a second card about it is noise.
        if session.key not in restarting:
            warning = _token_warning(session, config)
            if warning is not None:
                found.append(warning)
    for session in current:
        idle = _close_idle(session, config, now)
        if idle is not None:
            found.append(idle)
    found.extend(_merges(current, config))
    spend = _spend_warning(sessions, samples or {}, config, now)
    if spend is not None:
        found.append(spend)
    found.sort(key=lambda r: (_SEVERITY_ORDER[r.severity], r.kind, r.id))
    return found


def _current(session: Session, config: Config, now: datetime) -> bool:
    if session.hidden or session.imported:
        return False
    if session.live.state in LIVE_STATES:
        return True
    last = session.facts.last_activity_at
    return last is not None and _aware(now) - _aware(last) <= timedelta(
        minutes=config.recommend.recent_minutes
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def label(session: Session) -> str:
    """How advice names a session: its title, else its id's first part."""
    title = session.facts.title or session.key.session_id[:8]
    return f"{session.key.agent} '{title}'"


def _context_text(session: Session) -> str | None:
    context = session.facts.context
    fill = context.fill
    if fill is None or context.tokens is None or context.window is None:
        return None
    return f"context {fill:.0%} full ({format_tokens(context.tokens)} of " \
           f"{format_tokens(context.window)})"


def _compactions_text(session: Session) -> str:
    context = session.facts.context
    text = f"{context.compactions} compaction{'s' if context.compactions != 1 else ''}"
    if context.last_pre_tokens is not None and context.last_post_tokens is not None:
        text += (f" (last {format_tokens(context.last_pre_tokens)} → "
                 f"{format_tokens(context.last_post_tokens)})")
    return text


def _restart(session: Session, config: Config) -> Recommendation | None:
    rc = config.recommend
    context = session.facts.context
    fill = context.fill
    critical = session.health is not None and session.health.level == "critical"
    rotted = (
        fill is not None
        and fill >= rc.restart_fill
        and context.compactions >= rc.restart_compactions
    )
    if not critical and not rotted:
        return None
    parts: list[str] = []
    if session.health is not None:
        parts.append(f"health {session.health.score:g}/100 ({session.health.level})")
    context_text = _context_text(session)
    if context_text is not None:
        parts.append(context_text)
    if context.compactions:
        parts.append(_compactions_text(session))
    if rotted and fill is not None:
        parts.append(
            f"fill {fill:.0%} ≥ {rc.restart_fill:.0%} after {context.compactions} compactions "
            f"(≥ {rc.restart_compactions}): each compaction keeps a lossy summary"
        )
    if session.health is not None:
        weak = [f for f in session.health.factors if f.score < 50 and f.name != "tokens"]
        parts.extend(f"{f.name}: {f.reason} (score {f.score:.0f})" for f in weak)
    return Recommendation(
        id=f"restart:{session.key}",
        kind="restart",
        keys=(session.key,),
        title=f"Restart {label(session)} with a continuation brief",
        reason="; ".join(parts),
        severity="critical" if critical else "warning",
        command=start_command(session.key.agent, session.facts.cwd),
        brief=None,
        resume_command=resume_command(session.key, session.facts.cwd),
    )


def _token_warning(session: Session, config: Config) -> Recommendation | None:
    fill = session.facts.context.fill
    thresholds = sorted(config.fill_warnings)
    if fill is None or not thresholds:
        return None
    crossed = [t for t in thresholds if fill >= t]
    if not crossed:
        return None
    threshold = crossed[-1]
    context_text = _context_text(session) or f"context {fill:.0%} full"
    reason = (f"{context_text}, past the {threshold:.0%} warning; "
              f"{_compactions_text(session)} so far. Finish the current step, then compact "
              "or start fresh")
    return Recommendation(
        id=f"token-warning:{session.key}:{round(threshold * 100)}",
        kind="token-warning",
        keys=(session.key,),
        title=f"{label(session)}: context {fill:.0%} full",
        reason=reason,
        severity="warning" if threshold == thresholds[-1] else "info",
        command=start_command(session.key.agent, session.facts.cwd),
        resume_command=resume_command(session.key, session.facts.cwd),
    )


def _close_idle(session: Session, config: Config, now: datetime) -> Recommendation | None:
    last = session.facts.last_activity_at
    if session.live.state != "idle" or last is None:
        return None
    idle_minutes = (_aware(now) - _aware(last)).total_seconds() / 60.0
    if idle_minutes < config.idle_timeout_minutes:
        return None
    holds = f"{format_tokens(session.facts.usage.total)} tokens"
    if session.cost_usd is not None:
        holds += f" (≈ ${session.cost_usd:.2f})"
    context_text = _context_text(session)
    if context_text is not None:
        holds += f", {context_text}"
    pids = ", ".join(str(p) for p in session.live.pids)
    limit = format_minutes(config.idle_timeout_minutes)
    reason = (f"idle for {format_minutes(idle_minutes)} (no record since "
              f"{_aware(last):%Y-%m-%d %H:%M} UTC; advised after {limit}); holds {holds}")
    if pids:
        reason += f"; process {pids}"
    return Recommendation(
        # The idle spell is the condition: a new spell after more work is new advice.
        id=f"close-idle:{session.key}:{_aware(last):%Y%m%dT%H%M%S}",
        kind="close-idle",
        keys=(session.key,),
        title=f"Close idle {label(session)}",
        reason=reason,
        severity="info",
        resume_command=resume_command(session.key, session.facts.cwd),
    )


def _merges(current: Sequence[Session], config: Config) -> list[Recommendation]:
    rc = config.recommend
    found: list[Recommendation] = []
    ordered = sorted((s for s in current if s.facts.cwd), key=lambda s: s.key)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if (not same_folder(a.facts.cwd, b.facts.cwd)
                    or a.facts.git_branch != b.facts.git_branch):
                continue
            shared = overlap(a.facts, b.facts)
            by_files = len(shared.files) >= rc.merge_min_shared_files
            by_words = (len(shared.keywords) >= rc.merge_min_shared_keywords
                        and shared.keyword_similarity >= rc.merge_min_keyword_similarity)
            if not by_files and not by_words:
                continue
            evidence = [f"both in {a.facts.cwd}"
                        + (f" on branch {a.facts.git_branch}" if a.facts.git_branch else "")]
            if shared.files:
                evidence.append(f"{len(shared.files)} files touched by both: "
                                + ", ".join(shared.files[:_SHOWN]))
            if shared.keywords:
                evidence.append(f"{len(shared.keywords)} prompt words in common: "
                                + ", ".join(shared.keywords[:_SHOWN * 2])
                                + f" (similarity {shared.keyword_similarity:.2f})")
            # Keep the one with more room left; the other's work goes into it.
            keep, fold = sorted((a, b), key=_room_left, reverse=True)
            evidence.append(f"continue in {label(keep)} and close {label(fold)}")
            found.append(Recommendation(
                id=f"merge:{a.key}+{b.key}",
                kind="merge",
                keys=(keep.key, fold.key),
                title=f"Merge similar sessions: {label(a)} and {label(b)}",
                reason="; ".join(evidence),
                severity="info",
                resume_command=resume_command(keep.key, keep.facts.cwd),
            ))
    return found


def _room_left(session: Session) -> float:
    fill = session.facts.context.fill
    return 1.0 - fill if fill is not None else 0.5


def _spend_warning(
    sessions: Sequence[Session],
    samples: Mapping[SessionKey, Sequence[UsageSample]],
    config: Config,
    now: datetime,
) -> Recommendation | None:
    limit = config.daily_spend_warning_usd
    if limit <= 0:
        return None
    # Hidden sessions still cost money: the spend counts them, as the usage windows do.
    recent = spent_between(place_usage(sessions, samples, now), now - timedelta(hours=24), now)
    per_session: dict[SessionKey, float] = {}
    for spend in recent:
        if spend.cost_usd is not None:
            per_session[spend.key] = per_session.get(spend.key, 0.0) + spend.cost_usd
    total = sum(per_session.values())
    if total <= limit:
        return None
    top = sorted(per_session.items(), key=lambda item: (-item[1], item[0]))[:3]
    tokens = sum(s.tokens for s in recent)
    reason = (f"≈ ${total:.2f} ({format_tokens(tokens)} tokens) in the last 24 hours across all "
              f"agents, above the ${limit:.2f} daily warning; most in "
              + ", ".join(f"{key} (${cost:.2f})" for key, cost in top)
              + ". Estimate from local records and list prices")
    return Recommendation(
        id=f"spend-warning:24h:{limit:g}",
        kind="spend-warning",
        keys=tuple(key for key, _ in top),
        title=f"Spend ≈ ${total:.2f} in 24 hours (warning at ${limit:.2f})",
        reason=reason,
        severity="warning",
    )
