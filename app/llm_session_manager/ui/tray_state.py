"""What the tray shows for a snapshot: level, waiting mark, tooltip and the attention entries.

Pure (no Qt), so every decision is tested in tests/unit. "Tokens today" is the lifetime token
total of every session whose last activity falls on today's date in `now`'s time zone: the
records give per-request usage only for some agents, so a per-day split would differ by agent;
a session busy today is what a user means by "what I spent today" closely enough for a tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from llm_session_manager.core.formatting import agent_label
from llm_session_manager.core.health import format_tokens
from llm_session_manager.core.models import LIVE_STATES, Session, SessionKey, Snapshot
from llm_session_manager.core.notify import critical_reason, session_name
from llm_session_manager.core.quiet_hours import QuietHours

TrayLevel = Literal["healthy", "warning", "critical", "idle"]
PauseChoice = Literal["hour", "tomorrow", "resume"]
APP_TITLE = "LLM Session Manager"
MAX_ATTENTION = 10
# "Until tomorrow" resumes at this local hour: a pause taken in the evening lasts the night.
TOMORROW_HOUR = 8


@dataclass(frozen=True)
class MenuEntry:
    key: SessionKey
    text: str
    level: TrayLevel  # the colour of the entry's mark
    waiting: bool


@dataclass(frozen=True)
class TrayState:
    level: TrayLevel
    waiting: bool
    tooltip: str
    attention: tuple[MenuEntry, ...] = ()


def is_live(session: Session) -> bool:
    return not session.imported and session.live.state in LIVE_STATES


def tray_state(
    snapshot: Snapshot | None,
    paused_until: datetime | None,
    now: datetime,
    quiet: QuietHours | None = None,
) -> TrayState:
    """`now` must be aware and local: its zone decides what "today" is, and its wall clock
    whether the quiet hours hold."""
    if snapshot is None:
        return TrayState("idle", False, f"{APP_TITLE} — starting…")
    live = [s for s in snapshot.sessions if is_live(s)]
    level: TrayLevel = snapshot.level or "idle"
    waiting = [s for s in live if s.live.state == "waiting"]
    critical = [s for s in live if s.health is not None and s.health.level == "critical"]
    parts = [f"{len(live)} live"]
    if critical:
        parts.append(f"{len(critical)} critical")
    if waiting:
        parts.append(f"{len(waiting)} waiting")
    parts.append(f"{tokens_today_text(snapshot, now)} tokens today")
    tooltip = f"{APP_TITLE} — {' · '.join(parts)}"
    # Both can hold (a pause taken at 21:00 until tomorrow runs over quiet hours): both are said,
    # as either ends on its own.
    silenced = []
    if paused_until is not None and now < paused_until:
        silenced.append(f"paused until {_clock(paused_until, now)}")
    if quiet is not None and quiet.contains(now):
        silenced.append(f"quiet until {quiet.end_text}")
    if silenced:
        tooltip += f" · notifications {', '.join(silenced)}"
    problems = len(snapshot.problems)
    if problems:
        tooltip += f" · {problems} problem{'s' if problems != 1 else ''}"
    return TrayState(level, bool(waiting), tooltip, attention_entries(live))


def tokens_today(snapshot: Snapshot, now: datetime) -> int:
    return _today(snapshot, now)[0]


def tokens_today_text(snapshot: Snapshot, now: datetime) -> str:
    """"312k", or "~312k" when a session counted with a tokenizer is part of the sum: the
    window marks counted figures the same way."""
    tokens, counted = _today(snapshot, now)
    text = format_tokens(tokens)
    return f"~{text}" if counted else text


def _today(snapshot: Snapshot, now: datetime) -> tuple[int, bool]:
    # The poller places each session's tokens in time from its usage history (as `usage` does),
    # so a session resumed today adds what it spent today, not its lifetime. Without that
    # (a snapshot made without advice), the totals of the sessions active today stand in.
    today = snapshot.today
    if today is not None and today.since.date() == now.astimezone(today.since.tzinfo).date():
        return today.tokens, today.counted
    active = _active_today(snapshot.sessions, now)
    counted = any(s.facts.usage.source == "counted" and s.facts.usage.total for s in active)
    return sum(s.facts.usage.total for s in active), counted


def _active_today(sessions: tuple[Session, ...], now: datetime) -> list[Session]:
    today = now.date()
    return [
        s for s in sessions
        if s.facts.last_activity_at is not None
        and s.facts.last_activity_at.astimezone(now.tzinfo).date() == today
    ]


def attention_entries(live: list[Session]) -> tuple[MenuEntry, ...]:
    """Live sessions that are critical, in warning or waiting for their user; newest first."""
    entries: list[tuple[datetime | None, MenuEntry]] = []
    for session in live:
        level = session.health.level if session.health is not None else None
        waiting = session.live.state == "waiting"
        if level not in ("critical", "warning") and not waiting:
            continue
        parts = [session_name(session), agent_label(session.key.agent)]
        if waiting:
            parts.append(f"waiting for {session.live.detail or 'input'}")
        if level in ("critical", "warning"):
            parts.append(f"{level} ({_short_reason(session)})")
        entries.append(
            (session.facts.last_activity_at, MenuEntry(
                session.key, " — ".join(parts), level or "idle", waiting
            ))
        )
    # Sessions without a time go last; sorted() keeps the snapshot's order among equals.
    entries.sort(key=lambda e: (e[0] is not None, e[0] or datetime.min), reverse=True)
    return tuple(entry for _, entry in entries[:MAX_ATTENTION])


def pause_until(choice: PauseChoice, now: datetime) -> datetime | None:
    """When a pause taken at `now` (aware, local) ends; None for resume."""
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        next_day = (now + timedelta(days=1)).date()
        return datetime.combine(next_day, datetime.min.time(), now.tzinfo).replace(
            hour=TOMORROW_HOUR
        )
    return None


def quiet_text(quiet: QuietHours | None, now: datetime) -> str | None:
    """The Pause menu's line about the quiet hours (None without them); `now` local."""
    if quiet is None:
        return None
    if quiet.contains(now):
        return f"Quiet hours until {quiet.end_text}"
    return f"Quiet hours {quiet.text.replace('-', '–')}"


def _short_reason(session: Session) -> str:
    # "context 182k of 200k (91%), 2 compactions (-20) (health 31)" -> the part before "(health".
    return critical_reason(session).rsplit(" (health", 1)[0]


def _clock(at: datetime, now: datetime) -> str:
    local = at.astimezone(now.tzinfo)
    if local.date() == now.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")
