"""NotificationPlanner: which conditions fire, cooldown (store-backed), pause, summary."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llm_session_manager.config import Config, UiConfig
from llm_session_manager.core.models import Session, SessionKey, Snapshot
from llm_session_manager.core.notify import NotificationPlanner, summarize
from llm_session_manager.store.repo import Store
from tray_facts import CONTEXT_FIRST, fill_context, find, make_live, real_sessions, snapshot_of

NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


@pytest.fixture
def sessions(sample_home: Path) -> list[Session]:
    return real_sessions(sample_home, NOW)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "sessions.db") as opened:
        yield opened


def planner_for(store: Store | None, config: Config = CONTEXT_FIRST) -> NotificationPlanner:
    return NotificationPlanner(store, lambda: config)


def states(sessions: list[Session], now: datetime, **changes: Session) -> Snapshot:
    by_prefix = {s.key.session_id[:8]: s for s in sessions}
    by_prefix.update(changes)
    return snapshot_of(list(by_prefix.values()), now)


def test_critical_live_session_fires_once(sessions: list[Session], store: Store) -> None:
    planner = planner_for(store)
    base = make_live(find(sessions, "984fb08c"), NOW, "active")
    assert planner.plan(states(sessions, NOW, **{"984fb08c": base}), NOW) == []
    critical = fill_context(base, NOW)
    later = NOW + timedelta(seconds=5)
    notices = planner.plan(states(sessions, later, **{"984fb08c": critical}), later)
    assert [(n.key, n.condition) for n in notices] == [(critical.key, "critical")]
    notice = notices[0]
    assert notice.title == "myapp is critical"
    assert notice.body.startswith("Claude Code · Mock session · context ")
    assert "2 compactions" in notice.body
    # still critical on the next poll: nothing new
    again = later + timedelta(seconds=5)
    assert planner.plan(states(sessions, again, **{"984fb08c": critical}), again) == []
    assert store.last_notified(critical.key, "critical") == later


def test_waiting_fires_with_its_detail(sessions: list[Session]) -> None:
    planner = planner_for(None)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    notices = planner.plan(states(sessions, NOW, **{"24237997": waiting}), NOW)
    assert [(n.title, n.body) for n in notices] == [(
        "my.app_v2 space is waiting for you",
        f"Claude Code · {waiting.facts.title} · waiting for permission prompt",
    )]


def test_waiting_says_since_when_in_the_users_clock(
    sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")  # UTC+1 in November
    time.tzset()
    try:
        waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
        since = NOW - timedelta(minutes=3)  # 23:27 UTC
        waiting = replace(waiting, live=replace(waiting.live, since=since))
        notices = planner_for(None).plan(states(sessions, NOW, **{"24237997": waiting}), NOW)
        assert notices[0].body.endswith("waiting for permission prompt since 00:27")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_ended_sessions_and_warnings_stay_quiet(sessions: list[Session]) -> None:
    planner = planner_for(None)
    ended_critical = fill_context(find(sessions, "984fb08c"), NOW)
    warning = fill_context(make_live(find(sessions, "81c214e6"), NOW), NOW, fill=0.8,
                           compactions=0)
    assert warning.health is not None and warning.health.level == "warning"
    snap = states(sessions, NOW, **{"984fb08c": ended_critical, "81c214e6": warning})
    assert planner.plan(snap, NOW) == []


def test_cooldown_survives_a_restart_and_expires(sessions: list[Session], store: Store) -> None:
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    snap = states(sessions, NOW, **{"984fb08c": critical})
    assert len(planner_for(store).plan(snap, NOW)) == 1
    # a new app run (a fresh planner) within the 30 minute cooldown: quiet
    soon = NOW + timedelta(minutes=10)
    assert planner_for(store).plan(replace(snap, taken_at=soon), soon) == []
    # after the cooldown it is said again
    later = NOW + timedelta(minutes=31)
    assert len(planner_for(store).plan(replace(snap, taken_at=later), later)) == 1


def test_recovering_then_critical_again_within_cooldown_is_quiet(
    sessions: list[Session],
) -> None:
    planner = planner_for(None, replace(CONTEXT_FIRST, ui=UiConfig(notify_cooldown_minutes=5)))
    base = make_live(find(sessions, "984fb08c"), NOW, "active")
    critical = fill_context(base, NOW)
    t = [NOW + timedelta(minutes=m) for m in (0, 1, 2, 7, 8)]
    assert len(planner.plan(states(sessions, t[0], **{"984fb08c": critical}), t[0])) == 1
    assert planner.plan(states(sessions, t[1], **{"984fb08c": base}), t[1]) == []
    assert planner.plan(states(sessions, t[2], **{"984fb08c": critical}), t[2]) == []
    assert planner.plan(states(sessions, t[3], **{"984fb08c": base}), t[3]) == []
    assert len(planner.plan(states(sessions, t[4], **{"984fb08c": critical}), t[4])) == 1


def test_pause_keeps_quiet_and_records_nothing(sessions: list[Session], store: Store) -> None:
    planner = planner_for(store)
    planner.pause(NOW + timedelta(hours=1))
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    assert planner.plan(states(sessions, NOW, **{"984fb08c": critical}), NOW) == []
    assert store.last_notified(critical.key, "critical") is None
    # resumed: the session that turned critical during the pause stays quiet ...
    planner.pause(None)
    soon = NOW + timedelta(minutes=1)
    assert planner.plan(states(sessions, soon, **{"984fb08c": critical}), soon) == []
    # ... while a new condition is said
    waiting = make_live(find(sessions, "24237997"), soon, "waiting", "permission prompt")
    snap = states(sessions, soon, **{"984fb08c": critical, "24237997": waiting})
    assert [n.condition for n in planner.plan(snap, soon)] == ["waiting"]


def test_expired_pause_and_disabled_notifications(sessions: list[Session]) -> None:
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    snap = states(sessions, NOW, **{"984fb08c": critical})
    planner = planner_for(None)
    planner.pause(NOW - timedelta(seconds=1))
    assert len(planner.plan(snap, NOW)) == 1
    off = replace(CONTEXT_FIRST, ui=UiConfig(notifications=False))
    assert planner_for(None, off).plan(snap, NOW) == []


def test_several_at_once_make_one_summary(sessions: list[Session]) -> None:
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "waiting", "input"), NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    snap = states(sessions, NOW, **{"984fb08c": critical, "24237997": waiting})
    notices = planner_for(None).plan(snap, NOW)
    assert sorted(n.condition for n in notices) == ["critical", "waiting", "waiting"]
    message = summarize(notices)
    assert message is not None
    assert message.title == "2 sessions need attention"
    assert message.key == critical.key  # a click opens the critical one
    assert message.body.splitlines()[0] == "myapp is critical"
    assert len(message.notices) == 3


def test_summary_of_one_is_the_notice_itself() -> None:
    assert summarize([]) is None
    key = SessionKey("codex", "abc")
    from llm_session_manager.core.notify import Notice

    notice = Notice(key, "waiting", "t", "b")
    message = summarize([notice])
    assert message is not None and (message.title, message.body, message.key) == ("t", "b", key)
