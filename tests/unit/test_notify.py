"""NotificationPlanner: which conditions fire, cooldown (store-backed), pause, quiet hours,
summary."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from llm_session_manager.config import Config, UiConfig
from llm_session_manager.core.models import Session, SessionKey, Snapshot
from llm_session_manager.core.notify import NotificationPlanner, summarize
from llm_session_manager.core.quiet_hours import parse_quiet_hours
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


# --- notify_on and quiet hours ----------------------------------------------------------------

PLUS_ONE = timezone(timedelta(hours=1))  # NOW (23:30 UTC) is 00:30 on this wall clock
NIGHT = parse_quiet_hours("22:00-07:00")
QUIET_END = datetime(2026, 11, 25, 7, 0, tzinfo=PLUS_ONE)


def with_ui(**changes: object) -> Config:
    return replace(CONTEXT_FIRST, ui=replace(CONTEXT_FIRST.ui, **changes))


def quiet_planner(store: Store | None, config: Config | None = None) -> NotificationPlanner:
    config = config or with_ui(quiet_hours=NIGHT)
    return NotificationPlanner(store, lambda: config, zone=PLUS_ONE)


def test_notify_on_without_waiting_says_only_critical(sessions: list[Session]) -> None:
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    snap = states(sessions, NOW, **{"984fb08c": critical, "24237997": waiting})
    only_critical = planner_for(None, with_ui(notify_on=("critical",)))
    assert [(n.key, n.condition) for n in only_critical.plan(snap, NOW)] == [
        (critical.key, "critical")
    ]
    # a critical session that is also waiting is told of as critical only
    both = fill_context(make_live(find(sessions, "984fb08c"), NOW, "waiting", "input"), NOW)
    snap = states(sessions, NOW, **{"984fb08c": both})
    assert [n.condition for n in planner_for(None, with_ui(notify_on=("critical",)))
            .plan(snap, NOW)] == ["critical"]
    assert planner_for(None, with_ui(notify_on=())).plan(snap, NOW) == []


def test_quiet_hours_over_midnight_hold_what_appears(
    sessions: list[Session], store: Store
) -> None:
    planner = quiet_planner(store)
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    snap = states(sessions, NOW, **{"984fb08c": critical})
    assert planner.quiet(NOW)  # 00:30 on the planner's clock, inside 22:00-07:00
    assert planner.plan(snap, NOW) == []
    assert store.last_notified(critical.key, "critical") is None  # held, not recorded
    # after midnight only: NOW is 00:30 on the planner's clock but 23:30 on a UTC one
    small_hours = with_ui(quiet_hours=parse_quiet_hours("00:00-07:00"))
    assert NotificationPlanner(None, lambda: small_hours, zone=PLUS_ONE).quiet(NOW)
    assert not NotificationPlanner(None, lambda: small_hours, zone=UTC).quiet(NOW)


def test_still_critical_when_quiet_hours_end_is_said_once(
    sessions: list[Session], store: Store
) -> None:
    planner = quiet_planner(store)
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    night = [NOW + timedelta(hours=h) for h in (0, 2, 6)]  # 00:30, 02:30, 06:30 local
    for t in night:
        assert planner.plan(states(sessions, t, **{"984fb08c": critical}), t) == []
    notices = planner.plan(states(sessions, QUIET_END, **{"984fb08c": critical}), QUIET_END)
    assert [(n.key, n.condition) for n in notices] == [(critical.key, "critical")]
    assert store.last_notified(critical.key, "critical") == QUIET_END
    later = QUIET_END + timedelta(seconds=5)
    assert planner.plan(states(sessions, later, **{"984fb08c": critical}), later) == []


def test_what_ended_during_quiet_hours_is_not_said_after_them(sessions: list[Session]) -> None:
    planner = quiet_planner(None)
    base = make_live(find(sessions, "24237997"), NOW, "active")
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    t1, t2 = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    assert planner.plan(states(sessions, NOW, **{"24237997": waiting}), NOW) == []
    assert planner.plan(states(sessions, t1, **{"24237997": base}), t1) == []  # answered
    assert planner.plan(states(sessions, t2, **{"984fb08c": critical}), t2) == []
    # at 07:00 the prompt answered at 01:30 stays unsaid; the still critical session is said
    end = states(sessions, QUIET_END, **{"24237997": base, "984fb08c": critical})
    assert [(n.key, n.condition) for n in planner.plan(end, QUIET_END)] == [
        (critical.key, "critical")
    ]


def test_held_conditions_and_new_ones_at_the_end_make_one_summary(
    sessions: list[Session],
) -> None:
    planner = quiet_planner(None)
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    assert planner.plan(states(sessions, NOW, **{"984fb08c": critical}), NOW) == []
    end = states(sessions, QUIET_END, **{"984fb08c": critical, "24237997": waiting})
    message = summarize(planner.plan(end, QUIET_END))
    assert message is not None and message.title == "2 sessions need attention"
    assert message.key == critical.key


def test_a_condition_there_before_quiet_hours_is_not_repeated_after(
    sessions: list[Session],
) -> None:
    planner = quiet_planner(None)
    evening = NOW - timedelta(hours=3)  # 21:30 local: not quiet yet
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    assert len(planner.plan(states(sessions, evening, **{"984fb08c": critical}), evening)) == 1
    assert planner.plan(states(sessions, NOW, **{"984fb08c": critical}), NOW) == []
    end = states(sessions, QUIET_END, **{"984fb08c": critical})
    assert planner.plan(end, QUIET_END) == []


def test_a_pause_over_quiet_hours_drops_what_was_held(sessions: list[Session]) -> None:
    planner = quiet_planner(None)
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    assert planner.plan(states(sessions, NOW, **{"984fb08c": critical}), NOW) == []
    planner.pause(QUIET_END + timedelta(hours=1))  # "until tomorrow", taken in the night
    assert planner.plan(states(sessions, QUIET_END, **{"984fb08c": critical}), QUIET_END) == []
    after = QUIET_END + timedelta(hours=2)
    assert planner.plan(states(sessions, after, **{"984fb08c": critical}), after) == []


def test_a_reload_applies_notify_on_and_quiet_hours_to_the_next_plan(
    sessions: list[Session],
) -> None:
    current = [with_ui(quiet_hours=NIGHT)]
    planner = NotificationPlanner(None, lambda: current[0], zone=PLUS_ONE)
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    waiting = make_live(find(sessions, "24237997"), NOW, "waiting", "permission prompt")
    snap = states(sessions, NOW, **{"984fb08c": critical, "24237997": waiting})
    assert planner.plan(snap, NOW) == []
    # quiet hours removed and waiting no longer wanted: only the held critical is said
    current[0] = with_ui(notify_on=("critical",))
    later = NOW + timedelta(minutes=1)
    assert [n.condition for n in planner.plan(replace(snap, taken_at=later), later)] == [
        "critical"
    ]


def test_quiet_hours_follow_the_systems_zone_by_default(
    sessions: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    planner = planner_for(None, with_ui(quiet_hours=parse_quiet_hours("00:00-01:00")))
    critical = fill_context(make_live(find(sessions, "984fb08c"), NOW, "active"), NOW)
    snap = states(sessions, NOW, **{"984fb08c": critical})
    monkeypatch.setenv("TZ", "Europe/Paris")  # 23:30 UTC is 00:30 in Paris in November
    time.tzset()
    try:
        assert planner.quiet(NOW)
        assert planner.plan(snap, NOW) == []
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
        assert not planner.quiet(NOW)
        assert len(planner.plan(snap, NOW)) == 1  # the held condition, now outside the window
    finally:
        monkeypatch.undo()
        time.tzset()
