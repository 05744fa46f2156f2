"""Health: four weighted factors from config.health, a level, and the tray's aggregate level."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llm_session_manager.config import Config, HealthConfig, HealthWeights
from llm_session_manager.core.health import aggregate_level, assess, format_tokens
from llm_session_manager.core.models import (
    Context,
    Errors,
    Health,
    LiveState,
    LiveStateName,
    Session,
    SessionFacts,
    SessionKey,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTIVE = LiveState("active", pids=(42,), mapping="pid-file")


def make_facts(
    *,
    age: timedelta = timedelta(minutes=5),
    quiet: timedelta = timedelta(0),
    tokens: int | None = 20_000,
    window: int | None = 200_000,
    compactions: int = 0,
    errors: Errors | None = None,
) -> SessionFacts:
    return SessionFacts(
        key=SessionKey("claude-code", "s1"),
        model="claude-sonnet-4-5-20250929",
        started_at=NOW - age,
        last_activity_at=NOW - quiet,
        context=Context(
            tokens=tokens, window=window, window_source="table", compactions=compactions
        ),
        errors=errors or Errors(),
    )


def factor(health: Health, name: str) -> tuple[float, str]:
    found = next(f for f in health.factors if f.name == name)
    return found.score, found.reason


def score(live: LiveState = ACTIVE, config: Config | None = None, **changes: Any) -> float:
    return assess(make_facts(**changes), live, config or Config(), NOW).score


def with_health(**changes: Any) -> Config:
    config = Config()
    return replace(config, health=replace(config.health, **changes))


def test_a_fresh_session_is_healthy() -> None:
    health = assess(make_facts(), ACTIVE, Config(), NOW)
    assert (health.score, health.level) == (100.0, "healthy")
    assert [f.name for f in health.factors] == ["tokens", "duration", "activity", "errors"]
    assert [f.weight for f in health.factors] == [0.4, 0.2, 0.2, 0.2]
    assert factor(health, "tokens") == (100.0, "context 20k of 200k (10%)")
    assert factor(health, "activity") == (100.0, "working now")
    assert factor(health, "errors") == (100.0, "no errors")


def test_full_context_compactions_and_errors_are_critical() -> None:
    recent = tuple(NOW - timedelta(minutes=m) for m in (2, 10, 20, 90))
    facts = make_facts(
        age=timedelta(hours=5),
        tokens=192_000,
        compactions=3,
        errors=Errors(tool=4, api=2, recent=recent),
    )
    health = assess(facts, ACTIVE, Config(), NOW)
    assert health.level == "critical"
    # tokens 0 (96% >= fill_bad), duration 70 (5h between 2h and 12h), activity 100,
    # errors 0 (3 old + 3 recent x 3 = 12 >= errors_bad 10)
    assert health.score == pytest.approx(0.4 * 0 + 0.2 * 70 + 0.2 * 100 + 0.2 * 0)
    assert factor(health, "tokens") == (0.0, "context 192k of 200k (96%), 3 compactions (-30)")
    assert factor(health, "duration")[0] == pytest.approx(70.0)
    assert factor(health, "duration")[1] == "running for 5h"
    assert factor(health, "errors") == (0.0, "6 errors (4 tool, 2 API), 3 in the last 30m")


def test_each_compaction_lowers_the_token_score() -> None:
    scores = [score(tokens=100_000, compactions=n) for n in range(4)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4


def test_fuller_context_scores_lower() -> None:
    scores = [score(tokens=t) for t in (50_000, 120_000, 160_000, 185_000, 195_000)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5


def test_lifetime_tokens_do_not_matter_only_the_window() -> None:
    small_window = score(tokens=150_000, window=200_000)
    large_window = score(tokens=150_000, window=1_000_000)
    assert large_window > small_window


def test_longer_sessions_score_lower() -> None:
    scores = [score(age=timedelta(hours=h)) for h in (1, 4, 8, 11, 13)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5


def test_longer_silence_scores_lower_for_an_ended_session() -> None:
    ended = LiveState("ended")
    scores = [
        score(ended, age=timedelta(hours=1), quiet=timedelta(hours=h)) for h in (0.5, 2, 12, 30)
    ]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4


def test_a_live_session_waiting_for_its_user_is_not_abandoned() -> None:
    quiet = timedelta(hours=30)
    waiting = LiveState("waiting", pids=(42,), detail="permission prompt")
    health = assess(make_facts(quiet=quiet), waiting, Config(), NOW)
    assert factor(health, "activity") == (50.0, "waiting for you (permission prompt) for 30h")
    ended = assess(make_facts(quiet=quiet), LiveState("ended"), Config(), NOW)
    assert factor(ended, "activity") == (0.0, "ended, last activity 30h ago")
    idle = assess(make_facts(quiet=timedelta(minutes=90)), LiveState("idle"), Config(), NOW)
    assert factor(idle, "activity")[0] > 50.0
    assert factor(idle, "activity")[1] == "idle for 1h 30m"


def test_an_active_session_is_fine_however_old_its_last_record() -> None:
    health = assess(make_facts(quiet=timedelta(hours=5)), ACTIVE, Config(), NOW)
    assert factor(health, "activity")[0] == 100.0


def test_more_errors_score_lower_and_recent_ones_weigh_more() -> None:
    scores = [score(errors=Errors(tool=n)) for n in (0, 1, 4, 8, 10, 12)]
    assert scores[:5] == sorted(scores[:5], reverse=True) and len(set(scores[:5])) == 5
    assert scores[5] == scores[4] == 80.0  # the factor is 0 from errors_bad on
    old = Errors(tool=2, recent=(NOW - timedelta(hours=3), NOW - timedelta(hours=2)))
    new = Errors(tool=2, recent=(NOW - timedelta(minutes=3), NOW - timedelta(minutes=2)))
    assert score(errors=new) < score(errors=old)


def test_recent_means_within_the_window_before_now_naive_times_being_utc() -> None:
    window = timedelta(minutes=HealthConfig().recent_error_minutes)
    naive_now = NOW.replace(tzinfo=None)
    times = (
        NOW - window,  # on the edge: recent
        naive_now - timedelta(minutes=1),  # naive, taken as UTC: recent
        NOW - window - timedelta(seconds=1),  # just outside
        NOW + timedelta(minutes=1),  # a clock ahead of ours: not yet
    )
    health = assess(make_facts(errors=Errors(tool=4, recent=times)), ACTIVE, Config(), NOW)
    assert factor(health, "errors")[1].endswith(", 2 in the last 30m")
    # the same with a naive clock
    health = assess(make_facts(errors=Errors(tool=4, recent=times)), ACTIVE, Config(), naive_now)
    assert factor(health, "errors")[1].endswith(", 2 in the last 30m")


def test_unknown_context_scores_neutral_and_says_so() -> None:
    health = assess(make_facts(tokens=None, compactions=1), ACTIVE, Config(), NOW)
    reason = "context size unknown (scored 50), 1 compaction (-10)"
    assert factor(health, "tokens") == (40.0, reason)


def test_a_window_not_yet_resolved_is_resolved_from_the_config() -> None:
    health = assess(make_facts(tokens=100_000, window=None), ACTIVE, Config(), NOW)
    assert factor(health, "tokens")[1] == "context 100k of 200k (50%)"


def test_weights_from_the_config_change_the_score() -> None:
    facts = make_facts(tokens=190_000)  # tokens 0, everything else 100
    assert assess(facts, ACTIVE, Config(), NOW).score == pytest.approx(60.0)
    only_tokens = with_health(weights=HealthWeights(tokens=1.0, duration=0, activity=0, errors=0))
    assert assess(facts, ACTIVE, only_tokens, NOW).score == 0.0
    # Weights that do not add up to 1 (a Config built in code) are scaled, not summed raw.
    doubled = with_health(weights=HealthWeights(0.8, 0.4, 0.4, 0.4))
    assert assess(facts, ACTIVE, doubled, NOW).score == pytest.approx(60.0)


def test_thresholds_from_the_config_change_factor_scores_and_level() -> None:
    facts = make_facts(tokens=150_000)  # 75% fill: tokens 44.4 by default
    default = assess(facts, ACTIVE, Config(), NOW)
    assert default.level == "healthy" and default.score == pytest.approx(77.8, abs=0.05)
    strict = assess(facts, ACTIVE, with_health(healthy_min=80.0), NOW)
    assert (strict.score, strict.level) == (default.score, "warning")
    lenient_fill = assess(facts, ACTIVE, with_health(fill_ok=0.8), NOW)
    assert lenient_fill.score == 100.0
    assert assess(facts, ACTIVE, with_health(warning_min=78.0, healthy_min=90.0), NOW).level == (
        "critical"
    )


def test_naive_timestamps_are_taken_as_utc() -> None:
    facts = replace(make_facts(), started_at=datetime(2026, 3, 1, 9, 0))  # 3h before NOW
    assert factor(assess(facts, ACTIVE, Config(), NOW), "duration")[1] == "running for 3h"


def test_format_tokens() -> None:
    assert [format_tokens(n) for n in (950, 182_400, 999_999, 1_000_000, 1_250_000)] == [
        "950", "182k", "1M", "1M", "1.2M",
    ]  # fmt: skip


def session(state: LiveStateName, level: str | None, imported: bool = False) -> Session:
    health = Health(50.0, level) if level else None  # type: ignore[arg-type]
    return Session(make_facts(), live=LiveState(state), health=health, imported=imported)


def test_aggregate_level_is_the_worst_live_level() -> None:
    assert aggregate_level([]) is None
    assert aggregate_level([session("ended", "critical")]) is None
    assert aggregate_level([session("active", "critical", imported=True)]) is None
    live = [session("active", "healthy"), session("idle", "warning"), session("ended", "critical")]
    assert aggregate_level(live) == "warning"
    assert aggregate_level([*live, session("waiting", "critical")]) == "critical"
    assert aggregate_level([session("active", "healthy"), session("idle", None)]) == "healthy"


def test_health_config_defaults_are_the_seed_rule() -> None:
    assert HealthConfig().weights == HealthWeights(0.4, 0.2, 0.2, 0.2)
