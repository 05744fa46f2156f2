"""core.codec: SessionFacts <-> JSON-able dict, an exact round trip and field-naming errors."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from llm_session_manager.core import codec
from llm_session_manager.core.codec import facts_from_dict, facts_from_stored, facts_to_dict
from llm_session_manager.core.models import (
    Context,
    Errors,
    ModelUsage,
    SessionFacts,
    SessionKey,
    Usage,
)

T0 = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)


def full_facts() -> SessionFacts:
    return SessionFacts(
        key=SessionKey("claude-code", "0b9c-4e:with:colons"),
        title="Fix the flaky test",
        first_prompt="why does test_x fail?\nsecond line — ünïcode",
        cwd="/home/dev/src/my.app_v2 space",
        git_branch="main",
        model="claude-sonnet-4-5",
        agent_version="2.1.197",
        started_at=T0,
        last_activity_at=T0 + timedelta(minutes=42),
        usage=Usage(10, 20, 30, 40, 5, "exact"),
        by_model=(
            ModelUsage("claude-sonnet-4-5", Usage(9, 19, 29, 39, 0, "exact")),
            ModelUsage("claude-haiku", Usage(1, 1, 1, 1, 5, "counted")),
        ),
        context=Context(150_000, 200_000, "table", 2, 180_000, 30_000),
        errors=Errors(3, 1, (T0, T0 + timedelta(seconds=1)), "tool failed: exit 1"),
        prompts=7,
        replies=9,
        paths=("/a/b.jsonl", "/a/b/subagents/agent-1.jsonl"),
        turn_hint="turn_done",
        pending_tool="Bash",
    )


def random_facts(rng: random.Random) -> SessionFacts:
    def opt_int() -> int | None:
        return None if rng.random() < 0.3 else rng.randrange(0, 1 << 40)

    def opt_str() -> str | None:
        return None if rng.random() < 0.3 else "".join(rng.choice('ab:é\n"\\ x') for _ in range(8))

    def opt_dt() -> datetime | None:
        if rng.random() < 0.3:
            return None
        zone = timezone(timedelta(minutes=rng.randrange(-720, 720, 15)))
        moment = T0 + timedelta(microseconds=rng.randrange(-(10**13), 10**13))
        return moment.astimezone(zone)

    def usage() -> Usage:
        return Usage(
            *(rng.randrange(0, 1 << 33) for _ in range(5)), rng.choice(["exact", "counted"])
        )

    return SessionFacts(
        key=SessionKey(rng.choice(["codex", "gemini"]), f"s-{rng.randrange(10**9)}"),
        title=opt_str(),
        first_prompt=opt_str(),
        cwd=opt_str(),
        git_branch=opt_str(),
        model=opt_str(),
        agent_version=opt_str(),
        started_at=opt_dt(),
        last_activity_at=opt_dt(),
        usage=usage(),
        by_model=tuple(ModelUsage(f"m{i}", usage()) for i in range(rng.randrange(3))),
        context=Context(
            opt_int(),
            opt_int(),
            rng.choice(["record", "unknown"]),
            rng.randrange(5),
            opt_int(),
            opt_int(),
        ),
        errors=Errors(
            rng.randrange(9),
            rng.randrange(9),
            tuple(d for d in (opt_dt() for _ in range(rng.randrange(4))) if d is not None),
            opt_str(),
        ),
        prompts=rng.randrange(100),
        replies=rng.randrange(100),
        paths=tuple(f"/p/{i}" for i in range(rng.randrange(3))),
        turn_hint=opt_str(),
        pending_tool=opt_str(),
    )


def test_full_facts_round_trip_through_json() -> None:
    facts = full_facts()
    data = facts_to_dict(facts)
    # JSON-able as is, and still equal after the text round trip the store does.
    assert facts_from_dict(orjson.loads(orjson.dumps(data))) == facts
    assert data["started_at"] == "2026-03-01T12:30:45.123456Z"
    assert data["usage"]["source"] == "exact"
    assert data["key"] == {"agent": "claude-code", "session_id": "0b9c-4e:with:colons"}


def test_default_facts_round_trip() -> None:
    facts = SessionFacts(SessionKey("codex", "x"))
    assert facts_from_dict(facts_to_dict(facts)) == facts


def test_property_from_to_is_identity_on_random_facts() -> None:
    rng = random.Random(20260301)
    for _ in range(500):
        facts = random_facts(rng)
        assert facts_from_dict(orjson.loads(orjson.dumps(facts_to_dict(facts)))) == facts


def test_the_stores_fast_path_equals_the_checked_path() -> None:
    rng = random.Random(7)
    for _ in range(300):
        stored = orjson.loads(orjson.dumps(facts_to_dict(random_facts(rng))))
        fast = facts_from_stored(stored)
        assert fast == facts_from_dict(stored)
        assert type(fast.errors.recent) is tuple and type(fast.paths) is tuple


def test_the_fast_path_hands_odd_rows_to_the_checked_path() -> None:
    sparse = {"key": {"agent": "codex", "session_id": "x"}}  # an older, shorter row
    assert facts_from_stored(sparse) == SessionFacts(SessionKey("codex", "x"))
    with pytest.raises(ValueError, match=r"usage\.input"):
        facts_from_stored({**facts_to_dict(SessionFacts(SessionKey("codex", "x"))),
                           "usage": {"input": "many"}})


def test_a_row_stored_before_agent_version_loads_on_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = full_facts()
    stored = orjson.loads(orjson.dumps(facts_to_dict(full)))
    assert stored["agent_version"] == "2.1.197"
    del stored["agent_version"]
    assert facts_from_dict(stored) == replace(full, agent_version=None)

    def refused(data: Any) -> SessionFacts:
        raise AssertionError("the fast path handed a well-formed older row on")

    monkeypatch.setattr(codec, "facts_from_dict", refused)
    assert facts_from_stored(stored) == replace(full, agent_version=None)


def test_other_zones_come_back_as_the_same_instant_in_utc() -> None:
    local = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    facts = SessionFacts(SessionKey("codex", "x"), started_at=local)
    back = facts_from_dict(facts_to_dict(facts))
    assert back.started_at == local
    assert back.started_at is not None and back.started_at.utcoffset() == timedelta(0)
    assert facts_to_dict(facts)["started_at"] == "2026-01-01T07:00:00.000000Z"


def test_missing_optional_fields_take_defaults_and_unknown_keys_are_ignored() -> None:
    facts = facts_from_dict({"key": {"agent": "codex", "session_id": "x"}, "future": 1})
    assert facts == SessionFacts(SessionKey("codex", "x"))


def test_naive_datetime_is_refused_naming_the_field() -> None:
    facts = SessionFacts(SessionKey("codex", "x"), errors=Errors(recent=(datetime(2026, 1, 1),)))
    with pytest.raises(ValueError, match=r"errors\.recent\[0\]"):
        facts_to_dict(facts)


def _with(path: str, value: Any) -> dict[str, Any]:
    data = facts_to_dict(full_facts())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("usage.input", "12", "usage.input"),
        ("usage.output", True, "usage.output"),
        ("usage.source", "guessed", "usage.source"),
        ("context.tokens", 1.5, "context.tokens"),
        ("context.window_source", 3, "context.window_source"),
        ("errors.recent", ["not a date"], r"errors\.recent\[0\]"),
        ("errors.recent", ["2026-01-01T00:00:00"], r"errors\.recent\[0\]"),
        ("errors.tool", [], "errors.tool"),
        ("started_at", 12, "started_at"),
        ("title", 5, "title"),
        ("agent_version", 2.1, "agent_version"),
        ("paths", "abc", "paths"),
        ("by_model", [{"usage": {}}], r"by_model\[0\]\.model"),
        ("by_model", [{"model": "m", "usage": {"input": "x"}}], r"by_model\[0\]\.usage\.input"),
        ("key", "codex:x", "key"),
        ("key.session_id", None, "key.session_id"),
        ("context", [], "context"),
        ("v", 99, "v"),
    ],
)
def test_bad_input_raises_value_error_naming_the_field(path: str, value: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        facts_from_dict(_with(path, value))


def test_not_an_object_at_all() -> None:
    with pytest.raises(ValueError, match="facts"):
        facts_from_dict([])  # type: ignore[arg-type]
