"""Each kind of advice fires on a case built from the real clients' records, and stays silent on
the untouched records next to it. Cases are made by appending lines shaped like the transcript's
own (assistant replies with larger usage, a compaction, tool calls and prompts) to a copy of the
sample home, then reading it through the real sources and poller. Live state, which needs a
running process, is set on the polled session with dataclasses.replace.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.config import Config, RecommendConfig
from llm_session_manager.core.advice import RecommendationLog
from llm_session_manager.core.models import (
    Health,
    LiveState,
    Recommendation,
    Session,
    SessionKey,
)
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.recommend import recommend
from llm_session_manager.core.sources.claude_records import ClaudeFileAccumulator
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.store.repo import Store

MYAPP = Path(".claude/projects/-home-dev-src-myapp")
ODD = Path(".claude/projects/-home-dev-src-my-app-v2-space")
COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"  # /compact once, then a fourth turn
HELLO = "9f0872f4-68e2-4afc-b54d-208680e00ae9"  # "Say hello", one reply
HELLO_JSON = "803a844d-985a-4147-b7e4-99537203403b"  # "Say hello as json", same cwd/branch
INTERACTIVE = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"  # the TUI session with a pid file
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"
API_ERROR = "67be10ac-6ba8-400a-83bd-0308eb215532"
ODD_PATH = "24237997-fab8-43e0-93cd-29f8ded17d6b"  # /home/dev/src/my.app_v2 space
CODEX_DIR = Path(".codex/sessions/2026/11/24")
CODEX_HELLO = "rollout-2026-11-24T23-08-05-01a20fd1-024c-73e0-b4ba-4c143c841788.jsonl"
# The records were written between 23:05 and 23:09 UTC; "now" is shortly after.
NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
MODEL = "claude-opus-4-8"  # the sample's model, also written into the appended replies
WINDOW = Config().window_for(MODEL) or 0  # its context window in the shipped table


def filling(fraction: float) -> int:
    """A prompt size that fills `fraction` of the model's window."""
    assert WINDOW, f"no window for {MODEL} in the shipped table"
    return round(WINDOW * fraction)


# -- building cases from the real records ----------------------------------------------------


def records(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        return [orjson.loads(line) for line in handle]


def append(path: Path, *lines: dict[str, Any]) -> None:
    with path.open("ab") as handle:
        for line in lines:
            handle.write(orjson.dumps(line) + b"\n")


def transcript(home: Path, session_id: str, folder: Path = MYAPP) -> Path:
    return home / folder / f"{session_id}.jsonl"


def last_of(path: Path, kind: str, **where: Any) -> dict[str, Any]:
    found = [r for r in records(path) if r.get("type") == kind
             and all(r.get(k) == v for k, v in where.items())]
    assert found, f"no {kind} line in {path.name}"
    return copy.deepcopy(found[-1])


def reply(path: Path, n: int, at: datetime, prompt_tokens: int,
          content: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An assistant line shaped like the transcript's last one, with new ids, time and usage."""
    line = last_of(path, "assistant")
    line["uuid"] = f"00000000-0000-4000-8000-{n:012d}"
    line["requestId"] = f"req_rec_{n}"
    line["timestamp"] = at.isoformat().replace("+00:00", "Z")
    message = line["message"]
    message["id"] = f"msg_rec_{n}"
    message["model"] = MODEL
    message["usage"] = {
        "input_tokens": 20,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": prompt_tokens - 20,
        "output_tokens": 40,
    }
    if content is not None:
        message["content"] = content
    return line


def prompt(path: Path, n: int, at: datetime, text: str) -> dict[str, Any]:
    """A user prompt line shaped like the transcript's first prompt."""
    line = next(copy.deepcopy(r) for r in records(path)
                if r.get("type") == "user" and isinstance(r["message"].get("content"), str))
    line["uuid"] = f"00000000-0000-4000-9000-{n:012d}"
    line["timestamp"] = at.isoformat().replace("+00:00", "Z")
    line["message"]["content"] = text
    return line


def compaction(path: Path, n: int, at: datetime, pre: int, post: int) -> dict[str, Any]:
    line = last_of(path, "system", subtype="compact_boundary")
    line["uuid"] = f"00000000-0000-4000-a000-{n:012d}"
    line["timestamp"] = at.isoformat().replace("+00:00", "Z")
    line["compactMetadata"] = {**line.get("compactMetadata", {}), "preTokens": pre,
                               "postTokens": post}
    return line


def edit(file_path: str, n: int) -> list[dict[str, Any]]:
    return [{"type": "tool_use", "id": f"toolu_rec_{n}", "name": "Edit",
             "input": {"file_path": file_path, "old_string": "a", "new_string": "b"}}]


def poll(home: Path, now: datetime = NOW, config: Config | None = None) -> dict[str, Session]:
    config = config or Config()
    poller = Poller(build_sources(config, {}, home), None, config, clock=lambda: now,
                    scan_processes=ProcessTable)
    return {s.key.session_id: s for s in poller.poll_once().sessions}


def of_kind(recs: list[Recommendation], kind: str) -> list[Recommendation]:
    return [r for r in recs if r.kind == kind]


def about(recs: list[Recommendation], session_id: str) -> list[Recommendation]:
    return [r for r in recs if any(k.session_id == session_id for k in r.keys)]


# -- restart ---------------------------------------------------------------------------------


def test_restart_fires_on_high_fill_after_a_second_compaction(sample_home: Path) -> None:
    path = transcript(sample_home, COMPACTED)
    at = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)
    pre, fill = filling(0.95), filling(0.85)
    append(path, compaction(path, 1, at, pre=pre, post=30_000),
           reply(path, 2, at + timedelta(minutes=1), prompt_tokens=fill))
    sessions = poll(sample_home)
    session = sessions[COMPACTED]
    assert session.facts.context.compactions == 2
    assert session.facts.context.fill is not None and session.facts.context.fill >= 0.8

    recs = recommend(list(sessions.values()), Config(), NOW)
    restarts = of_kind(recs, "restart")
    assert [r.keys for r in restarts] == [(session.key,)]
    rec = restarts[0]
    assert rec.id == f"restart:claude-code:{COMPACTED}"
    assert rec.severity == "warning"  # high fill after compactions; health is not critical
    assert f"85% full ({_k(fill)} of {_k(WINDOW)})" in rec.reason
    assert f"2 compactions (last {_k(pre)} → 30k)" in rec.reason
    assert rec.command == "cd /home/dev/src/myapp && claude"
    assert rec.resume_command == f"cd /home/dev/src/myapp && claude --resume {COMPACTED}"
    assert rec.brief is None  # built on demand by the brief module
    # The restart already tells the fill: no second card about the same context.
    assert not about(of_kind(recs, "token-warning"), COMPACTED)


def test_restart_stays_silent_on_the_untouched_records(sample_home: Path) -> None:
    sessions = poll(sample_home)
    assert sessions[COMPACTED].facts.context.compactions == 1  # one compaction, low fill
    assert of_kind(recommend(list(sessions.values()), Config(), NOW), "restart") == []


def test_one_compaction_is_not_enough_for_a_fill_restart(sample_home: Path) -> None:
    path = transcript(sample_home, HELLO)
    append(path, reply(path, 1, datetime(2026, 11, 24, 23, 20, tzinfo=UTC), filling(0.85)))
    sessions = poll(sample_home)
    assert sessions[HELLO].facts.context.compactions == 0
    assert of_kind(recommend(list(sessions.values()), Config(), NOW), "restart") == []


def test_critical_health_calls_for_a_restart_with_a_quoted_folder(sample_home: Path) -> None:
    sessions = poll(sample_home)
    odd = sessions[ODD_PATH]
    assert odd.health is not None and odd.health.level != "critical"
    critical = dataclasses.replace(odd, health=Health(31.0, "critical", odd.health.factors))
    recs = of_kind(recommend([critical], Config(), NOW), "restart")
    assert len(recs) == 1 and recs[0].severity == "critical"
    assert "health 31/100 (critical)" in recs[0].reason
    assert recs[0].command == "cd '/home/dev/src/my.app_v2 space' && claude"
    assert recs[0].resume_command == (
        f"cd '/home/dev/src/my.app_v2 space' && claude --resume {ODD_PATH}"
    )


def test_ended_sessions_past_the_recent_time_get_no_advice(sample_home: Path) -> None:
    path = transcript(sample_home, COMPACTED)
    at = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)
    append(path, compaction(path, 1, at, filling(0.95), 30_000),
           reply(path, 2, at, filling(0.85)))
    later = at + timedelta(hours=3)
    sessions = poll(sample_home, later)
    assert sessions[COMPACTED].state == "ended"
    assert recommend(list(sessions.values()), Config(), later) == []
    # ... unless it is live: then it can still be acted on.
    live = dataclasses.replace(sessions[COMPACTED], live=LiveState("idle", (4242,), "pid-file"))
    assert of_kind(recommend([live], Config(), later), "restart")


# -- token warnings --------------------------------------------------------------------------


def test_token_warning_names_the_highest_threshold_crossed(sample_home: Path) -> None:
    path = transcript(sample_home, HELLO)
    at = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)
    append(path, reply(path, 1, at, prompt_tokens=filling(0.75)))
    recs = recommend(list(poll(sample_home).values()), Config(), NOW)
    warnings = about(of_kind(recs, "token-warning"), HELLO)
    assert [(r.id, r.severity) for r in warnings] == [
        (f"token-warning:claude-code:{HELLO}:70", "info")
    ]
    assert (f"context 75% full ({_k(filling(0.75))} of {_k(WINDOW)}), past the 70% warning"
            in warnings[0].reason)

    append(path, reply(path, 2, at + timedelta(minutes=2), prompt_tokens=filling(0.90)))
    recs = recommend(list(poll(sample_home).values()), Config(), NOW)
    warnings = about(of_kind(recs, "token-warning"), HELLO)
    assert [(r.id, r.severity) for r in warnings] == [
        (f"token-warning:claude-code:{HELLO}:85", "warning")
    ]
    # Thresholds come from the config.
    strict = Config(fill_warnings=(0.95,))
    assert not of_kind(recommend(list(poll(sample_home).values()), strict, NOW), "token-warning")


def test_token_warning_stays_silent_on_the_untouched_records(sample_home: Path) -> None:
    recs = recommend(list(poll(sample_home).values()), Config(), NOW)
    assert of_kind(recs, "token-warning") == []


# -- close idle ------------------------------------------------------------------------------


def test_close_idle_fires_for_a_live_idle_session_past_the_idle_time(sample_home: Path) -> None:
    polled = poll(sample_home)[INTERACTIVE]
    last = polled.facts.last_activity_at
    assert last is not None
    idle = dataclasses.replace(polled, live=LiveState("idle", (14985,), "pid-file"))
    now = last + timedelta(minutes=45)
    recs = of_kind(recommend([idle], Config(), now), "close-idle")
    assert len(recs) == 1
    rec = recs[0]
    assert rec.id == f"close-idle:claude-code:{INTERACTIVE}:20261124T230603"
    assert "idle for 45m" in rec.reason and "advised after 30m" in rec.reason
    assert f"holds {_k(polled.facts.usage.total)} tokens" in rec.reason
    assert polled.cost_usd is not None and f"${polled.cost_usd:.2f}" in rec.reason
    assert "process 14985" in rec.reason
    assert rec.resume_command == f"cd /home/dev/src/myapp && claude --resume {INTERACTIVE}"


def _k(count: int) -> str:
    from llm_session_manager.core.health import format_tokens

    return format_tokens(count)


def test_close_idle_stays_silent_before_the_idle_time_and_for_other_states(
    sample_home: Path,
) -> None:
    polled = poll(sample_home)[INTERACTIVE]
    assert polled.facts.last_activity_at is not None
    soon = polled.facts.last_activity_at + timedelta(minutes=10)
    late = polled.facts.last_activity_at + timedelta(minutes=45)
    idle = dataclasses.replace(polled, live=LiveState("idle", (14985,), "pid-file"))
    assert not of_kind(recommend([idle], Config(), soon), "close-idle")
    # The idle time is configurable.
    assert of_kind(recommend([idle], Config(idle_timeout_minutes=5), soon), "close-idle")
    for state in ("active", "waiting"):
        other = dataclasses.replace(polled, live=LiveState(state, (14985,), "pid-file"))
        assert not of_kind(recommend([other], Config(), late), "close-idle")
    assert not of_kind(recommend([polled], Config(), late), "close-idle")  # ended: nothing to close


# -- merge -----------------------------------------------------------------------------------


def _same_task(home: Path, session_id: str, n: int, folder: Path = MYAPP) -> None:
    path = transcript(home, session_id, folder)
    at = datetime(2026, 11, 24, 23, 15, tzinfo=UTC)
    append(
        path,
        prompt(path, n, at, "Fix the login token refresh bug in the auth middleware"),
        reply(path, n + 1, at + timedelta(seconds=5), 12_000,
              edit("/home/dev/src/myapp/src/auth/middleware.py", n)),
        reply(path, n + 2, at + timedelta(seconds=9), 12_500,
              edit("/home/dev/src/myapp/tests/test_auth.py", n + 1)),
    )


def test_the_sources_collect_files_touched_and_prompt_keywords(sample_home: Path) -> None:
    _same_task(sample_home, HELLO, 10)
    facts = poll(sample_home)[HELLO].facts
    assert facts.files_touched == (
        "/home/dev/src/myapp/src/auth/middleware.py",
        "/home/dev/src/myapp/tests/test_auth.py",
    )
    assert {"login", "token", "refresh", "bug", "auth", "middleware", "say"} <= set(facts.keywords)
    assert not {"the", "in", "hello"} & set(facts.keywords)  # stop-words
    # The real Read of a missing file is a file touched, too.
    assert poll(sample_home)[TOOL_ERROR].facts.files_touched == (
        "/nonexistent/definitely-missing.txt",
    )


def test_claude_evidence_survives_dump_and_restore(sample_home: Path) -> None:
    _same_task(sample_home, HELLO, 10)
    path = transcript(sample_home, HELLO)
    acc = ClaudeFileAccumulator(str(path))
    with path.open("rb") as handle:
        for line in handle:
            acc.feed(line)
    state = orjson.loads(orjson.dumps(acc.dump()))
    restored = ClaudeFileAccumulator.from_state(str(path), state)
    assert restored.dump() == acc.dump()
    assert restored.files == acc.files and restored.words == acc.words and acc.words["auth"] == 1
    # A state saved before the evidence was collected still restores (without it).
    del state["files"], state["words"]
    assert ClaudeFileAccumulator.from_state(str(path), state).files == []


def test_codex_collects_patched_files_and_keeps_them_through_restore(sample_home: Path) -> None:
    path = sample_home / CODEX_DIR / CODEX_HELLO
    events = [r for r in records(path) if r["type"] == "event_msg"]
    template = copy.deepcopy(events[-1])
    begin = {**template, "payload": {"type": "patch_apply_begin", "call_id": "call_1",
                                     "changes": {"src/app.py": {"update": {}}}}}
    item = {**template, "payload": {"type": "item_completed", "item": {
        "type": "FileChange", "id": "fc_1", "status": "completed",
        "changes": [{"path": "/home/dev/src/cxapp/README.md", "kind": {"type": "update"}}]}}}
    append(path, begin, item)
    acc = RolloutAccumulator()
    with path.open("rb") as handle:
        for line in handle:
            acc.feed(line)
    assert acc.files_touched == ["src/app.py", "/home/dev/src/cxapp/README.md"]
    assert RolloutAccumulator.restore(acc.dump()).dump() == acc.dump()
    facts = poll(sample_home)["01a20fd1-024c-73e0-b4ba-4c143c841788"].facts
    assert facts.files_touched == ("src/app.py", "/home/dev/src/cxapp/README.md")
    assert facts.keywords == ("say",)  # "Say hello": hello is a stop-word


def test_merge_fires_for_two_sessions_on_the_same_task_in_one_folder(sample_home: Path) -> None:
    _same_task(sample_home, HELLO, 10)
    _same_task(sample_home, HELLO_JSON, 20)
    _same_task(sample_home, ODD_PATH, 30, ODD)  # same words and files, another project
    sessions = poll(sample_home)
    recs = of_kind(recommend(list(sessions.values()), Config(), NOW), "merge")
    mine = [r for r in recs if {k.session_id for k in r.keys} & {HELLO, HELLO_JSON, ODD_PATH}]
    assert len(mine) == 1
    rec = mine[0]
    assert {k.session_id for k in rec.keys} == {HELLO, HELLO_JSON}
    assert "both in /home/dev/src/myapp on branch feature/mock-branch" in rec.reason
    assert ("2 files touched by both: /home/dev/src/myapp/src/auth/middleware.py, "
            "/home/dev/src/myapp/tests/test_auth.py") in rec.reason
    assert "prompt words in common" in rec.reason and "middleware" in rec.reason


def test_merge_fires_on_the_two_real_sessions_that_listed_files_with_bash(
    sample_home: Path,
) -> None:
    sessions = poll(sample_home)
    recs = of_kind(recommend(list(sessions.values()), Config(), NOW), "merge")
    claude = [r for r in recs if r.keys[0].agent == "claude-code"]
    # "[[tool:bash]] please list the files" and "[[tool:bash]] list files interactively";
    # every other pair of the seven myapp sessions shares at most two words: no advice.
    assert [{k.session_id for k in r.keys} for r in claude] == [{COMPACTED, INTERACTIVE}]
    assert "4 prompt words in common: bash, files, list, tool (similarity 0.36)" in (
        claude[0].reason)
    # Codex sessions 0390 and 06a3 both "[[tool:shell]] list the files": similar as well;
    # the exec session that only said hello is not paired with anything.
    codex = [r for r in recs if r.keys[0].agent == "codex"]
    assert codex and not [r for r in codex if any(k.session_id.startswith("01a20fd1-024c")
                                                  for k in r.keys)]


def test_merge_stays_silent_without_shared_work(sample_home: Path) -> None:
    sessions = poll(sample_home)
    # Without the bash pair, the myapp sessions share a folder and branch but no work.
    rest = [s for k, s in sessions.items() if k not in (COMPACTED, INTERACTIVE)]
    assert not [r for r in of_kind(recommend(rest, Config(), NOW), "merge")
                if r.keys[0].agent == "claude-code"]
    # The count is the config's: with five shared words required no real pair qualifies.
    assert not of_kind(recommend(list(sessions.values()), Config(recommend=RecommendConfig(
        merge_min_shared_keywords=5)), NOW), "merge")
    # One shared file is below the default of two; the threshold is the config's.
    _same_task(sample_home, HELLO, 10)
    path = transcript(sample_home, HELLO_JSON)
    append(path, reply(path, 40, datetime(2026, 11, 24, 23, 16, tzinfo=UTC), 12_000,
                       edit("/home/dev/src/myapp/tests/test_auth.py", 40)))
    sessions = poll(sample_home)
    assert not about(of_kind(recommend(list(sessions.values()), Config(), NOW), "merge"), HELLO)
    one_file = Config(recommend=RecommendConfig(merge_min_shared_files=1))
    assert about(of_kind(recommend(list(sessions.values()), one_file, NOW), "merge"), HELLO)


def test_merge_needs_the_same_branch(sample_home: Path) -> None:
    _same_task(sample_home, HELLO, 10)
    _same_task(sample_home, HELLO_JSON, 20)
    sessions = poll(sample_home)
    moved = dataclasses.replace(
        sessions[HELLO_JSON],
        facts=dataclasses.replace(sessions[HELLO_JSON].facts, git_branch="main"),
    )
    recs = of_kind(recommend([sessions[HELLO], moved], Config(), NOW), "merge")
    assert recs == []


# -- spend -----------------------------------------------------------------------------------


def test_spend_warning_fires_above_the_daily_amount_only(sample_home: Path) -> None:
    sessions = list(poll(sample_home).values())
    spent = sum(s.cost_usd or 0.0 for s in sessions)
    assert 0.05 < spent < 20.0  # the sample home's estimated cost
    assert not of_kind(recommend(sessions, Config(), NOW), "spend-warning")
    low = Config(daily_spend_warning_usd=0.05)
    recs = of_kind(recommend(sessions, low, NOW), "spend-warning")
    assert len(recs) == 1 and recs[0].id == "spend-warning:24h:0.05"
    assert f"${spent:.2f}" in recs[0].reason and "last 24 hours" in recs[0].reason
    # A day later the same records are outside the 24 hours.
    assert not of_kind(recommend(sessions, low, NOW + timedelta(hours=25)), "spend-warning")


# -- cooldown --------------------------------------------------------------------------------


def _token_warning(home: Path) -> Recommendation:
    path = transcript(home, HELLO)
    append(path, reply(path, 1, datetime(2026, 11, 24, 23, 20, tzinfo=UTC), filling(0.90)))
    return about(of_kind(recommend(list(poll(home).values()), Config(), NOW),
                         "token-warning"), HELLO)[0]


def test_a_condition_is_new_once_per_cooldown(sample_home: Path) -> None:
    rec = _token_warning(sample_home)
    log = RecommendationLog(timedelta(minutes=60))
    assert log.fresh([rec], NOW) == [rec]
    assert log.fresh([rec], NOW + timedelta(minutes=59)) == []
    assert log.fresh([rec], NOW + timedelta(minutes=61)) == [rec]
    assert log.fresh([rec], NOW + timedelta(minutes=62)) == []


def test_the_cooldown_persists_in_the_store(sample_home: Path, tmp_path: Path) -> None:
    rec = _token_warning(sample_home)
    spend = Recommendation("spend-warning:24h:1", "spend-warning", (), "t", "r")
    with Store.open(tmp_path / "db.sqlite") as store:
        assert RecommendationLog(timedelta(minutes=60), store).fresh([rec, spend], NOW) == [
            rec, spend]
        # Another process (the CLI after the tray) sees the same times.
        later = RecommendationLog(timedelta(minutes=60), store)
        assert later.fresh([rec, spend], NOW + timedelta(minutes=30)) == []
        assert later.fresh([rec, spend], NOW + timedelta(minutes=90)) == [rec, spend]
        assert store.last_notified(SessionKey("claude-code", HELLO), f"advice:{rec.id}") == (
            NOW + timedelta(minutes=90))
