"""Usage windows from real records placed in time by the usage samples a real poller wrote.

Replies are appended to a copy of the sample home at chosen times and the poller (with a store
and a controlled clock) polls after each, so the samples are the ones the app itself writes.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.config import Config, RecommendConfig, UsageLimit
from llm_session_manager.core.advice import Advisor
from llm_session_manager.core.models import Problem, Session, SessionKey, Snapshot, UsageSample
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.core.usage_windows import place_usage, usage_windows
from llm_session_manager.store.repo import Store
from llm_session_manager.store.samples import samples_since

HELLO = "9f0872f4-68e2-4afc-b54d-208680e00ae9"
TRANSCRIPT = Path(".claude/projects/-home-dev-src-myapp") / f"{HELLO}.jsonl"
FIRST_POLL = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # the records end at ~23:09


def reply(path: Path, n: int, at: datetime, tokens: int) -> bytes:
    """An assistant line like the transcript's last, at `at`, costing `tokens` in total."""
    with path.open("rb") as handle:
        last: dict[str, Any] = [r for r in map(orjson.loads, handle)
                                if r.get("type") == "assistant"][-1]
    line = copy.deepcopy(last)
    line["uuid"] = f"00000000-0000-4000-b000-{n:012d}"
    line["requestId"] = f"req_uw_{n}"
    line["timestamp"] = at.isoformat().replace("+00:00", "Z")
    line["message"]["id"] = f"msg_uw_{n}"
    line["message"]["usage"] = {"input_tokens": 100, "cache_creation_input_tokens": 0,
                                "cache_read_input_tokens": tokens - 150, "output_tokens": 50}
    return orjson.dumps(line) + b"\n"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def poller(home: Path, store: Store | None, clock: Clock, config: Config) -> Poller:
    return Poller(build_sources(config, {}, home), store, config, clock=clock,
                  scan_processes=ProcessTable)


def windows_of(snapshot: Snapshot) -> dict[tuple[str, str], Any]:
    return {(w.agent, w.window): w for w in snapshot.usage_windows}


def test_tokens_land_in_the_windows_of_the_polls_that_saw_them(
    sample_home: Path, tmp_path: Path
) -> None:
    limits = {"claude-code": UsageLimit(five_hour_tokens=400_000, week_tokens=0)}
    config = Config(recommend=RecommendConfig(limits=limits))
    clock = Clock(FIRST_POLL)
    path = sample_home / TRANSCRIPT
    with Store.open(tmp_path / "db.sqlite") as store:
        first = poller(sample_home, store, clock, config).poll_once()
        history_claude = sum(s.facts.usage.total for s in first.sessions
                             if s.key.agent == "claude-code")
        history_codex = sum(s.facts.usage.total for s in first.sessions if s.key.agent == "codex")

        with path.open("ab") as handle:
            handle.write(reply(path, 1, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), 100_000))
        clock.now = datetime(2026, 11, 25, 3, 1, tzinfo=UTC)
        app = poller(sample_home, store, clock, config)  # a new process: samples from the store
        app.poll_once()
        with path.open("ab") as handle:
            handle.write(reply(path, 2, datetime(2026, 11, 25, 5, 40, tzinfo=UTC), 50_000))
        clock.now = now = datetime(2026, 11, 25, 5, 45, tzinfo=UTC)
        snapshot = app.poll_once()

    got = windows_of(snapshot)
    five, week = got[("claude-code", "5h")], got[("claude-code", "week")]
    # 00:45-05:45 holds the two replies; the history (23:05-23:09) only the week.
    assert five.tokens == 150_000
    assert week.tokens == history_claude + 150_000
    assert (five.start, five.end) == (now - timedelta(hours=5), now)
    assert week.start == now - timedelta(days=7)
    # Burn: the last 60 minutes hold the 05:40 reply only.
    assert five.burn_tokens_per_hour == 50_000
    # Run-out: (400k - 150k) / 50k per hour = 5 hours from now; no week limit, no projection.
    assert five.limit_tokens == 400_000
    assert five.projected_run_out == now + timedelta(hours=5)
    assert week.limit_tokens is None and week.projected_run_out is None
    # Cost is the session's estimate shared out by tokens.
    hello = next(s for s in snapshot.sessions if s.key.session_id == HELLO)
    assert hello.cost_usd is not None
    assert abs(five.cost_usd - hello.cost_usd * 150_000 / hello.facts.usage.total) < 1e-9
    codex_five, codex_week = got[("codex", "5h")], got[("codex", "week")]
    assert (codex_five.tokens, codex_week.tokens) == (0, history_codex)
    assert codex_five.burn_tokens_per_hour == 0 and codex_five.cost_usd == 0


@pytest.mark.parametrize(("zone", "midnight"), [
    ("UTC", datetime(2026, 11, 25, 0, 0, tzinfo=UTC)),
    ("Asia/Tokyo", datetime(2026, 11, 24, 15, 0, tzinfo=UTC)),  # 00:00 on the 25th in Tokyo
])
def test_todays_tokens_are_what_was_spent_since_local_midnight(
    sample_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str,
    midnight: datetime,
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        clock = Clock(FIRST_POLL)
        path = sample_home / TRANSCRIPT
        with Store.open(tmp_path / "db.sqlite") as store:
            first = poller(sample_home, store, clock, Config()).poll_once()
            history = sum(s.facts.usage.total for s in first.sessions)
            with path.open("ab") as handle:
                handle.write(reply(path, 1, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), 100_000))
            clock.now = datetime(2026, 11, 25, 5, 45, tzinfo=UTC)
            snapshot = poller(sample_home, store, clock, Config()).poll_once()
    finally:
        monkeypatch.undo()
        time.tzset()
    today = snapshot.today
    assert today is not None and today.since == midnight and not today.counted
    # The resumed session adds its reply, not its lifetime; the sample history (23:05-23:09 UTC
    # on the 24th) is "today" only where the 25th began before it.
    assert today.tokens == (100_000 if zone == "UTC" else history + 100_000)
    hello = next(s for s in snapshot.sessions if s.key.session_id == HELLO)
    assert hello.facts.usage.total > 100_000


def test_a_limit_already_reached_runs_out_now(sample_home: Path) -> None:
    sessions = _sessions(sample_home)
    now = FIRST_POLL
    total = sum(s.facts.usage.total for s in sessions if s.key.agent == "codex")
    limits = {"codex": UsageLimit(five_hour_tokens=total // 2, week_tokens=total * 10)}
    got = {(w.agent, w.window): w for w in usage_windows(
        sessions, {}, Config(recommend=RecommendConfig(limits=limits)), now)}
    assert got[("codex", "5h")].projected_run_out == now
    # The week's limit is far: (10 x total - total) / burn, the burn being the whole total
    # (the records are within the last hour).
    assert got[("codex", "week")].burn_tokens_per_hour == total
    assert got[("codex", "week")].projected_run_out == now + timedelta(hours=9)


def _sessions(home: Path, now: datetime = FIRST_POLL) -> list[Session]:
    config = Config()
    return list(poller(home, None, Clock(now), config).poll_once().sessions)


def test_without_samples_a_session_counts_at_its_last_record(sample_home: Path) -> None:
    sessions = _sessions(sample_home)
    claude = sum(s.facts.usage.total for s in sessions if s.key.agent == "claude-code")
    last = max(s.facts.last_activity_at for s in sessions if s.facts.last_activity_at)

    def tokens(now: datetime, window: str) -> int | None:
        for w in usage_windows(sessions, {}, Config(), now):
            if (w.agent, w.window) == ("claude-code", window):
                return w.tokens
        return None

    assert tokens(last + timedelta(hours=2), "5h") == claude
    assert tokens(last + timedelta(hours=6), "5h") == 0
    assert tokens(last + timedelta(hours=6), "week") == claude
    assert tokens(last + timedelta(days=8), "week") is None  # no usage, no limit: no row


def test_first_sample_of_a_cold_start_is_not_counted_as_spent_now(sample_home: Path) -> None:
    sessions = _sessions(sample_home)
    hello = next(s for s in sessions if s.key.session_id == HELLO)
    later = FIRST_POLL + timedelta(days=2)
    # The app first ran two days after the session: its sample is at that moment, but the tokens
    # were spent at the session's last record.
    samples = {hello.key: [UsageSample(hello.key, later, hello.facts.usage.total)]}
    placed = place_usage([hello], samples, later)
    assert [(p.at, p.tokens) for p in placed] == [
        (hello.facts.last_activity_at, hello.facts.usage.total)]


def test_a_shrunk_total_is_a_new_base_not_negative_usage(sample_home: Path) -> None:
    hello = next(s for s in _sessions(sample_home) if s.key.session_id == HELLO)
    key, total = hello.key, hello.facts.usage.total
    t0 = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    samples = {key: [UsageSample(key, t0, total), UsageSample(key, t0 + timedelta(minutes=1), 10),
                     UsageSample(key, t0 + timedelta(minutes=2), total)]}
    placed = place_usage([hello], samples, FIRST_POLL)
    assert [p.tokens for p in placed] == [total, total - 10]


def test_samples_since_keeps_each_sessions_base(tmp_path: Path) -> None:
    key, other = SessionKey("codex", "a"), SessionKey("claude-code", "b")
    now = FIRST_POLL
    with Store.open(tmp_path / "db.sqlite") as store:
        store.add_samples([
            UsageSample(key, now - timedelta(days=10), 100),
            UsageSample(key, now - timedelta(days=8), 300),
            UsageSample(key, now - timedelta(days=1), 700),
            UsageSample(other, now - timedelta(days=9), 50),
        ])
        got = samples_since(store, now - timedelta(days=7))
    assert [(s.at, s.total_tokens) for s in got[key]] == [
        (now - timedelta(days=8), 300), (now - timedelta(days=1), 700)]
    assert [s.total_tokens for s in got[other]] == [50]


def test_advice_errors_become_a_problem_not_a_failed_poll(sample_home: Path) -> None:
    sessions = _sessions(sample_home)
    broken = Config(recommend=RecommendConfig(burn_minutes=0))  # a zero span: division by zero
    problems: list[Problem] = []
    advice = Advisor().advise(sessions, broken, FIRST_POLL, problems)
    assert advice.usage_windows == () and advice.recommendations == ()
    assert [p.where for p in problems] == ["advice"]
