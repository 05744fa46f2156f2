"""The Codex rollout accumulator on hand-written lines: what the real samples do not show.

Sub-agent replay, counter restarts, several models, compactions, titles, older event shapes
(public fixtures) and errors reported twice. The real Codex 0.169.0 rollouts are covered in
`test_source_codex.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.codex import CodexSource
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator

PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public" / "codex"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _line(kind: str, payload: dict[str, Any], ts: str = "2026-01-01T10:00:00.000Z") -> bytes:
    # orjson writes compact JSON in insertion order, as Codex does.
    return orjson.dumps({"timestamp": ts, "type": kind, "payload": payload})


def _token_count(total: tuple[int, int, int, int], last_total: int, ts: str, **info: Any) -> bytes:
    names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    usage = dict(zip(names, total, strict=True))
    payload_info = {
        "total_token_usage": usage,
        "last_token_usage": {**usage, "total_tokens": last_total},
        "model_context_window": 258400,
        **info,
    }
    return _line("event_msg", {"type": "token_count", "info": payload_info}, ts)


def _fed(*lines: bytes, count_tokens: Any = None) -> RolloutAccumulator:
    acc = RolloutAccumulator(count_tokens)
    for line in lines:
        acc.feed(line)
    return acc


def _facts(acc: RolloutAccumulator, session_id: str = "s") -> SessionFacts:
    tracked = TrackedFile(f"/x/rollout-{session_id}.jsonl", session_id)
    return CodexSource([]).build(SessionKey("codex", session_id), [(tracked, acc)])


def test_token_count_without_info_is_ignored() -> None:
    acc = _fed(
        _line("turn_context", {"model": "gpt-5.1-codex", "cwd": "/p"}),
        _token_count((1000, 400, 50, 10), 1050, "2026-01-01T10:00:01.000Z"),
        _line("event_msg", {"type": "token_count", "info": None,
                            "rate_limits": {"primary": {"used_percent": 5.0}}},
              "2026-01-01T10:00:02.000Z"),
    )
    facts = _facts(acc)
    assert (facts.usage.input, facts.usage.cache_read, facts.usage.output) == (600, 400, 50)
    assert facts.context.tokens == 1050
    assert facts.last_activity_at == _utc("2026-01-01T10:00:02.000Z")


# ---- hand-written edge cases ----------------------------------------------------------------


def test_counter_restart_is_carried_over_not_lost() -> None:
    acc = _fed(
        _line("turn_context", {"model": "m"}),
        _token_count((100, 0, 10, 0), 110, "2026-01-01T10:00:01.000Z"),
        _token_count((300, 0, 30, 0), 200, "2026-01-01T10:00:02.000Z"),
        # a process that did not restore the counter starts again from zero
        _token_count((50, 0, 5, 0), 55, "2026-01-01T11:00:00.000Z"),
        _token_count((50, 0, 5, 0), 55, "2026-01-01T11:00:00.500Z"),  # repeated, not new usage
    )
    usage = _facts(acc).usage
    assert (usage.input, usage.output) == (350, 35)


def _subagent_lines() -> list[bytes]:
    meta = {"id": "c", "cwd": "/p", "source": {"subagent": {"thread_spawn": {"parent": "p"}}}}
    return [
        _line("session_meta", meta, "2026-01-01T10:00:00.000Z"),
        _line("turn_context", {"model": "m"}, "2026-01-01T10:00:00.100Z"),
        # the parent's history, replayed in the same second
        _token_count((100, 0, 10, 0), 110, "2026-01-01T10:00:00.200Z"),
        _token_count((200, 0, 20, 0), 110, "2026-01-01T10:00:00.300Z"),
        # the sub-agent's own call
        _token_count((260, 0, 26, 0), 66, "2026-01-01T10:00:05.000Z"),
    ]


def test_subagent_replay_of_parent_tokens_is_not_counted() -> None:
    facts = _facts(_fed(*_subagent_lines()))
    assert (facts.usage.input, facts.usage.output) == (60, 6)
    assert facts.by_model[0].usage.total == 66
    assert facts.context.tokens == 66


def test_replay_rule_applies_only_to_subagents() -> None:
    lines = _subagent_lines()
    lines[0] = _line("session_meta", {"id": "c", "cwd": "/p", "source": "cli"})
    usage = _facts(_fed(*lines)).usage
    assert (usage.input, usage.output) == (260, 26)


def test_usage_is_split_by_the_model_of_each_turn() -> None:
    acc = _fed(
        _line("turn_context", {"model": "gpt-a", "cwd": "/one"}),
        _token_count((100, 20, 10, 1), 110, "2026-01-01T10:00:01.000Z"),
        _line("turn_context", {"model": "gpt-b", "cwd": "/two"}),
        _token_count((250, 50, 30, 3), 170, "2026-01-01T10:00:02.000Z"),
    )
    facts = _facts(acc)
    by_model = {m.model: m.usage for m in facts.by_model}
    assert (by_model["gpt-a"].input, by_model["gpt-a"].cache_read) == (80, 20)
    assert (by_model["gpt-b"].input, by_model["gpt-b"].cache_read) == (120, 30)
    assert by_model["gpt-b"].output == 20 and by_model["gpt-b"].reasoning == 2
    assert sum(u.total for u in by_model.values()) == facts.usage.total
    assert facts.model == "gpt-b" and facts.cwd == "/two"


def test_ccusage_fixture_model_named_on_the_token_count() -> None:
    acc = _fed(*(PUBLIC / "ccusage__session-alpha.jsonl").read_bytes().splitlines())
    by_model = {m.model: m.usage for m in _facts(acc).by_model}
    # ccusage's own fixture expectation: the second event is priced as gpt-5.3-codex
    assert by_model["gpt-5.2-codex"].input + by_model["gpt-5.2-codex"].cache_read == 1000
    assert by_model["gpt-5.3-codex"].input + by_model["gpt-5.3-codex"].cache_read == 2500
    assert by_model["gpt-5.3-codex"].output == 300


def test_older_event_shapes_count_prompts_and_replies() -> None:
    name = "claude-code-log__rollout-2026-01-02T03-04-05-11111111-1111-4111-8111-111111111111.jsonl"
    facts = _facts(_fed(*(PUBLIC / name).read_bytes().splitlines()))
    assert facts.prompts == 1 and facts.replies == 1
    assert facts.first_prompt == "List the synthetic files."
    assert facts.model == "synthetic-model" and facts.cwd == "/workspace/synthetic-project"
    assert facts.usage.total == 0 and facts.by_model == ()


def test_counted_fallback_when_no_token_count_exists() -> None:
    acc = _fed(
        _line("event_msg", {"type": "user_message", "message": "one two three"}),
        _line("event_msg", {"type": "agent_message", "message": "four five"}),
        count_tokens=lambda text: len(text.split()),
    )
    usage = _facts(acc).usage
    assert (usage.input, usage.output, usage.source) == (3, 2, "counted")


def test_turn_hint_title_compaction_and_patch_failure() -> None:
    acc = _fed(
        _line("event_msg", {"type": "task_started", "model_context_window": 272000}),
        _line("event_msg", {"type": "user_message", "message": "fix   the\nbuild " + "x" * 200}),
        _token_count((9000, 0, 100, 0), 9100, "2026-01-01T10:00:01.000Z"),
        _line("compacted", {"message": "summary", "replacement_history": []}),
        _line("event_msg", {"type": "context_compacted"}),
        _token_count((12000, 0, 150, 0), 2500, "2026-01-01T10:00:03.000Z"),
        _line("event_msg", {"type": "patch_apply_end", "call_id": "c1", "success": False,
                            "stderr": "hunk failed"}, "2026-01-01T10:00:04.000Z"),
        _line("event_msg", {"type": "exec_command_end", "call_id": "c2", "exit_code": 1},
              "2026-01-01T10:00:05.000Z"),
        _line("event_msg", {"type": "item_completed", "item": {
            "type": "CommandExecution", "id": "c2", "status": "failed", "exit_code": 1}},
              "2026-01-01T10:00:05.100Z"),  # the same failed call, reported again
    )
    facts = _facts(acc)
    assert facts.turn_hint == "working"
    assert facts.title is not None and facts.title.startswith("fix the build xxx")
    assert len(facts.title) <= 120
    assert facts.context.compactions == 1
    assert (facts.context.last_pre_tokens, facts.context.last_post_tokens) == (9100, 2500)
    assert facts.context.window == 258400  # the token count's own window wins
    assert facts.errors.tool == 2

    acc.feed(_line("event_msg", {"type": "thread_name_updated", "thread_name": "Fix build"}))
    acc.feed(_line("event_msg", {"type": "task_complete", "last_agent_message": None}))
    facts = _facts(acc)
    assert facts.title == "Fix build" and facts.turn_hint == "turn_done"


def test_api_error_event_and_failed_turn_count_once() -> None:
    acc = _fed(
        _line("event_msg", {"type": "task_started"}),
        _line("event_msg", {"type": "error", "message": "stream disconnected"},
              "2026-01-01T10:00:01.000Z"),
        _line("event_msg", {"type": "task_complete", "error": {"message": "stream disconnected"}},
              "2026-01-01T10:00:01.100Z"),
        _line("event_msg", {"type": "task_started"}),
        _line("event_msg", {"type": "error", "message": "quota exceeded"},
              "2026-01-01T10:00:09.000Z"),
    )
    errors = _facts(acc).errors
    assert errors.api == 2 and errors.last_message == "quota exceeded"
    assert len(errors.recent) == 2
