"""tray_state: level, waiting mark, tooltip and attention entries from real sessions (no Qt)."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from llm_session_manager.core.models import Problem, TokensToday, Usage
from llm_session_manager.core.quiet_hours import parse_quiet_hours
from llm_session_manager.ui import tray_state as tray_state_module
from llm_session_manager.ui.tray_state import pause_until, quiet_text, tokens_today, tray_state
from tray_facts import fill_context, find, make_live, real_sessions, snapshot_of

# The sample records were written on 2026-11-24 around 23:05 UTC.
NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


@pytest.fixture
def sessions(sample_home: Path) -> list:
    return real_sessions(sample_home, NOW)


def test_module_imports_nothing_from_qt() -> None:
    tree = ast.parse(Path(tray_state_module.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [n for n in names if n.startswith(("PySide6", "shiboken6"))]


def test_no_snapshot_yet_is_idle() -> None:
    state = tray_state(None, None, NOW)
    assert (state.level, state.waiting, state.attention) == ("idle", False, ())


def test_nothing_live_is_grey_with_todays_tokens(sessions: list) -> None:
    state = tray_state(snapshot_of(sessions, NOW), None, NOW)
    assert state.level == "idle" and not state.waiting and state.attention == ()
    total = sum(s.facts.usage.total for s in sessions)  # every sample session ran today
    assert total > 0
    assert state.tooltip == (
        f"LLM Session Manager — 0 live · {round(total / 1000)}k tokens today"
    )


def test_tooltip_marks_todays_tokens_when_a_counted_session_adds_to_them(sessions: list) -> None:
    total = sum(s.facts.usage.total for s in sessions)
    counted = replace(sessions[0], facts=replace(
        sessions[0].facts, usage=Usage(input=sessions[0].facts.usage.total, source="counted")))
    state = tray_state(snapshot_of([counted, *sessions[1:]], NOW), None, NOW)
    assert state.tooltip.endswith(f" · ~{round(total / 1000)}k tokens today")
    # A counted session from another day adds nothing to today's figure: no mark.
    yesterday = replace(counted, facts=replace(
        counted.facts, last_activity_at=NOW - timedelta(days=1)))
    state = tray_state(snapshot_of([yesterday, *sessions[1:]], NOW), None, NOW)
    assert " · ~" not in state.tooltip and state.tooltip.endswith(" tokens today")


def test_tokens_today_counts_sessions_active_on_the_local_date(sessions: list) -> None:
    # 23:05 UTC is already 24 November... and 25 November at UTC+2: not "today" on the 24th there.
    plus_two = timezone(timedelta(hours=2))
    snap = snapshot_of(sessions, NOW)  # made without advice: the totals of today's sessions
    assert tokens_today(snap, NOW) > 0
    assert tokens_today(snap, datetime(2026, 11, 24, 12, 0, tzinfo=plus_two)) == 0
    assert tokens_today(snap, NOW + timedelta(days=1)) == 0


def test_tokens_today_from_the_poller_win_on_their_own_day(sessions: list) -> None:
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    snap = replace(snapshot_of(sessions, NOW), today=TokensToday(midnight, 12_000, counted=True))
    state = tray_state(snap, None, NOW)
    assert state.tooltip.endswith(" · ~12k tokens today")
    # The next day, before the poller has said anything new, its figure is yesterday's.
    assert tokens_today(snap, NOW + timedelta(days=1)) == 0


def test_healthy_live_session_is_green(sessions: list) -> None:
    session = make_live(find(sessions, "984fb08c"), NOW)
    assert session.health is not None and session.health.level == "healthy"
    others = [s for s in sessions if s.key != session.key]
    state = tray_state(snapshot_of([session, *others], NOW), None, NOW)
    assert state.level == "healthy" and not state.waiting
    assert state.tooltip.startswith("LLM Session Manager — 1 live · ")
    assert state.attention == ()


def test_critical_and_waiting_sessions_need_attention(sessions: list) -> None:
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    assert critical.health is not None and critical.health.level == "critical"
    snap = snapshot_of([critical, waiting, *sessions[2:]], NOW)
    state = tray_state(snap, None, NOW)
    assert state.level == "critical" and state.waiting
    assert "2 live · 1 critical · 1 waiting · " in state.tooltip
    texts = [e.text for e in state.attention]
    assert {e.key for e in state.attention} == {critical.key, waiting.key}
    crit = next(e for e in state.attention if e.key == critical.key)
    assert crit.text.startswith("myapp — Claude Code — critical (context ")
    assert "2 compactions" in crit.text and crit.level == "critical"
    wait = next(e for e in state.attention if e.key == waiting.key)
    assert wait.text == "my.app_v2 space — Claude Code — waiting for permission prompt"
    assert wait.waiting and wait.level == "healthy"
    # newest first
    times = [next(s for s in snap.sessions if s.key == e.key).facts.last_activity_at
             for e in state.attention]
    assert times == sorted(times, reverse=True), texts


def test_ended_and_imported_sessions_never_need_attention(sessions: list) -> None:
    ended = fill_context(find(sessions, "984fb08c"), NOW)
    assert ended.health is not None and ended.health.level == "critical"
    state = tray_state(snapshot_of([ended], NOW), None, NOW)
    assert state.level == "idle" and state.attention == ()


def test_pause_and_problems_show_in_the_tooltip(sessions: list) -> None:
    snap = snapshot_of(sessions, NOW)
    snap = type(snap)(taken_at=NOW, sessions=snap.sessions, problems=(Problem("x", "bad"),))
    state = tray_state(snap, NOW + timedelta(hours=1), NOW)
    assert " · notifications paused until Wed 00:30 · 1 problem" in state.tooltip
    assert "paused" not in tray_state(snap, NOW - timedelta(minutes=1), NOW).tooltip


def test_pause_choices() -> None:
    local = datetime(2026, 11, 24, 17, 45, tzinfo=timezone(timedelta(hours=1)))
    assert pause_until("hour", local) == local + timedelta(hours=1)
    assert pause_until("tomorrow", local) == datetime(2026, 11, 25, 8, 0, tzinfo=local.tzinfo)
    assert pause_until("resume", local) is None


def test_quiet_hours_show_in_the_tooltip_like_a_pause(sessions: list) -> None:
    snap = snapshot_of(sessions, NOW)
    night = parse_quiet_hours("22:00-07:00")
    local = NOW.astimezone(timezone(timedelta(hours=1)))  # 00:30 on the user's clock
    assert tray_state(snap, None, local, night).tooltip.endswith(
        " tokens today · notifications quiet until 07:00"
    )
    evening = local - timedelta(hours=3)  # 21:30: not quiet yet
    assert "quiet" not in tray_state(snap, None, evening, night).tooltip
    both = tray_state(snap, local + timedelta(hours=8), local, night).tooltip
    assert both.endswith(" · notifications paused until 08:30, quiet until 07:00")


def test_quiet_text_for_the_pause_menu() -> None:
    night = parse_quiet_hours("22:00-07:00")
    plus_one = timezone(timedelta(hours=1))
    assert quiet_text(None, NOW) is None
    assert quiet_text(night, datetime(2026, 11, 25, 0, 30, tzinfo=plus_one)) == (
        "Quiet hours until 07:00"
    )
    assert quiet_text(night, datetime(2026, 11, 25, 7, 0, tzinfo=plus_one)) == (
        "Quiet hours 22:00–07:00"
    )
