"""The Claude Code source on small hand-written lines: the edge cases the real sample lacks.

Deduplication of streamed and replayed usage, bad lines, counted tokens, compaction and context,
turn hints, titles, prompts and errors. The real transcripts are covered in test_source_claude.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import FileAccumulator, TrackedFile
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.claude_records import ClaudeFileAccumulator
from llm_session_manager.core.tail import Cursor, FileStat, read_appended


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def assistant(
    msg_id: str | None = "msg_1",
    request_id: str | None = "req_1",
    *,
    usage: dict[str, Any] | None = None,
    output: int = 5,
    sidechain: bool = False,
    stop: str | None = "end_turn",
    content: list[dict[str, Any]] | None = None,
    model: str = "claude-x",
    ts: str = "2026-01-01T00:00:01.000Z",
    uuid: str = "u-a",
) -> bytes:
    message: dict[str, Any] = {
        "model": model,
        "role": "assistant",
        "stop_reason": stop,
        "content": content if content is not None else [{"type": "text", "text": "hi"}],
    }
    if msg_id is not None:
        message["id"] = msg_id
    if usage is not None or output >= 0:
        message["usage"] = (
            usage
            if usage is not None
            else {
                "input_tokens": 1,
                "output_tokens": output,
                "cache_creation_input_tokens": 10,
                "cache_read_input_tokens": 100,
            }
        )
    line: dict[str, Any] = {
        "type": "assistant",
        "isSidechain": sidechain,
        "message": message,
        "timestamp": ts,
        "uuid": uuid,
        "sessionId": "s",
    }
    if request_id is not None:
        line["requestId"] = request_id
    return orjson.dumps(line)


def user(content: Any, ts: str = "2026-01-01T00:00:00.000Z", **extra: Any) -> bytes:
    line = {"type": "user", "message": {"role": "user", "content": content}, "timestamp": ts}
    return orjson.dumps({**line, **extra})


def build_lines(
    files: Sequence[tuple[str, Sequence[bytes]]],
    count_tokens: Callable[[str], int] | None = None,
) -> SessionFacts:
    """Build one session from (role, lines) pairs."""
    source = ClaudeCodeSource([], count_tokens)
    pairs: list[tuple[TrackedFile, FileAccumulator]] = []
    for index, (role, lines) in enumerate(files):
        tracked = TrackedFile(f"/t/{index}.jsonl", "s", role)
        acc = source.new_accumulator(tracked)
        for line in lines:
            acc.feed(line)
        pairs.append((tracked, acc))
    return source.build(SessionKey("claude-code", "s"), pairs)


def test_streamed_repeats_keep_the_largest_in_any_order() -> None:
    small, large = assistant(output=5), assistant(output=12)
    for lines in ([small, large], [large, small]):
        f = build_lines([("main", lines)])
        assert (f.usage.output, f.usage.total, f.replies) == (12, 1 + 12 + 10 + 100, 1)


def test_same_message_under_two_requests_counts_twice() -> None:
    f = build_lines([("main", [assistant(request_id="req_1"), assistant(request_id="req_2")])])
    assert f.usage.output == 10


def test_sidechain_replay_matches_on_message_id_and_keeps_the_main_copy() -> None:
    main = assistant(request_id="req_1", output=5)
    replay = assistant(request_id="req_2", output=50, sidechain=True)
    for lines in ([main, replay], [replay, main]):
        assert build_lines([("main", lines)]).usage.output == 5
    # Across files too: the subagent's replayed copy does not add to the parent's tokens.
    assert build_lines([("main", [main]), ("subagent", [replay])]).usage.output == 5
    assert build_lines([("subagent", [replay]), ("main", [main])]).usage.output == 5


def test_cache_creation_prefers_the_ephemeral_breakdown() -> None:
    usage = {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 30, "ephemeral_1h_input_tokens": 50},
    }
    assert build_lines([("main", [assistant(usage=usage)])]).usage.cache_creation == 80
    del usage["cache_creation"]
    assert build_lines([("main", [assistant(usage=usage)])]).usage.cache_creation == 100


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"user","message":',  # cut short
        b"not json",
        b"[1, 2]",  # JSON, but not an object
        b'{"type":"user","message":{"content":"\xff\xfe"}}',  # not UTF-8
        b'{"type":"queue-operation","operation":"enq',  # cut short, even where not parsed
    ],
)
def test_bad_lines_raise_value_error(line: bytes) -> None:
    acc = ClaudeFileAccumulator("/t.jsonl")
    with pytest.raises(ValueError):
        acc.feed(line)


def test_bad_line_is_reported_by_the_tail_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join([assistant(output=7), b"{oops", assistant("msg_2", "r2")]) + b"\n")
    acc = ClaudeFileAccumulator(str(path))
    result = read_appended(str(path), Cursor(), FileStat.of(str(path)), acc.feed)
    assert result.bad_line_count == 1 and result.bad_lines[0].line_number == 2
    assert len(acc.usage) == 2


def test_count_tokens_only_for_replies_without_usage() -> None:
    def words(text: str) -> int:
        return len(text.split())

    no_usage = assistant(
        "msg_old",
        None,
        output=-1,
        content=[{"type": "text", "text": "three words here"}],
        uuid="u-old",
    )
    with_usage = assistant("msg_new", "req_new", output=7, uuid="u-new")

    counted = build_lines([("main", [no_usage, with_usage])], count_tokens=words)
    assert counted.usage.output == 3 + 7
    assert counted.usage.source == "counted"
    assert counted.replies == 2

    exact = build_lines([("main", [with_usage])], count_tokens=words)
    assert (exact.usage.output, exact.usage.source) == (7, "exact")

    # Without a counter, a reply without usage adds nothing and the total stays exact.
    uncounted = build_lines([("main", [no_usage, with_usage])])
    assert (uncounted.usage.output, uncounted.usage.source) == (7, "exact")


def test_compaction_newer_than_the_last_request_gives_its_post_tokens() -> None:
    boundary: dict[str, Any] = {
        "type": "system",
        "subtype": "compact_boundary",
        "timestamp": "2026-01-01T00:00:02Z",
        "compactMetadata": {"trigger": "auto", "preTokens": 150000, "postTokens": 4000},
    }
    f = build_lines([("main", [assistant(), orjson.dumps(boundary)])])
    assert (f.context.tokens, f.context.compactions, f.context.last_pre_tokens) == (
        4000,
        1,
        150000,
    )
    del boundary["compactMetadata"]["postTokens"]  # older CLIs write only preTokens
    f = build_lines([("main", [assistant(), orjson.dumps(boundary)])])
    assert f.context.tokens is None and f.context.last_post_tokens is None
    # A request after the boundary is the context again.
    f = build_lines([("main", [orjson.dumps(boundary), assistant(output=3)])])
    assert f.context.tokens == 1 + 10 + 100


def test_turn_hint_follows_the_last_main_thread_event() -> None:
    tool_call = assistant(stop="tool_use")
    result = user([{"type": "tool_result", "tool_use_id": "t", "content": "ok"}])
    assert build_lines([("main", [tool_call])]).turn_hint == "tool_running"
    assert build_lines([("main", [tool_call, result])]).turn_hint == "working"
    assert build_lines([("main", [tool_call, result, assistant("m2")])]).turn_hint == "turn_done"
    assert build_lines([("main", [user("do it")])]).turn_hint == "working"
    # Older CLIs: no stop reason on streamed lines; the tool call block tells.
    old_call = assistant(stop=None, content=[{"type": "tool_use", "id": "t", "name": "Bash"}])
    assert build_lines([("main", [old_call])]).turn_hint == "tool_running"
    assert build_lines([("main", [assistant(stop=None)])]).turn_hint == "working"
    # A subagent finishing does not finish the parent's turn.
    assert build_lines([("main", [tool_call]), ("subagent", [assistant("m3")])]).turn_hint == (
        "tool_running"
    )


def test_the_pending_tool_is_the_last_call_until_its_result_is_in() -> None:
    # 2.1.197 streams a reply's text block and its tool_use block as two lines of one message.
    text = assistant("m1", stop=None, content=[{"type": "text", "text": "Let me look."}])
    call = assistant("m1", stop="tool_use", content=[
        {"type": "tool_use", "id": "t1", "name": "Grep"},
        {"type": "tool_use", "id": "t2", "name": "Read"},
    ])
    result = user([{"type": "tool_result", "tool_use_id": "t2", "content": "ok"}])
    assert build_lines([("main", [text, call])]).pending_tool == "Read"
    assert build_lines([("main", [text, call, result])]).pending_tool is None
    assert build_lines([("main", [call, assistant("m2")])]).pending_tool is None  # turn over
    # A subagent's call is not what the session's own prompt asks about.
    sub_call = assistant("m3", stop="tool_use", sidechain=True,
                         content=[{"type": "tool_use", "id": "t3", "name": "Bash"}])
    assert build_lines([("main", [text]), ("subagent", [sub_call])]).pending_tool is None
    # Kept across a restart from the saved state.
    acc = ClaudeFileAccumulator("/t/0.jsonl")
    for line in (text, call):
        acc.feed(line)
    assert ClaudeFileAccumulator.from_state("/t/0.jsonl", acc.dump()).pending_tool == "Read"


def test_titles_prefer_the_users_name_then_the_generated_one() -> None:
    prompt = user("first real prompt")
    ai = orjson.dumps({"type": "ai-title", "aiTitle": "Generated"})
    custom = orjson.dumps({"type": "custom-title", "customTitle": "Mine"})
    summary = orjson.dumps({"type": "summary", "summary": "Old summary", "leafUuid": "x"})
    assert build_lines([("main", [prompt, ai, custom])]).title == "Mine"
    assert build_lines([("main", [prompt, ai])]).title == "Generated"
    assert build_lines([("main", [summary, prompt])]).title == "Old summary"
    assert build_lines([("main", [prompt])]).title == "first real prompt"
    long = build_lines([("main", [user("word " * 100)])])
    assert long.title is not None and len(long.title) <= 120 and long.title.endswith("…")


def test_wrappers_meta_and_tool_results_are_not_prompts() -> None:
    lines = [
        user("<command-name>/model</command-name>"),
        user("<local-command-stdout>done</local-command-stdout>"),
        user("injected", isMeta=True),
        user("summary of before", isCompactSummary=True),
        user([{"type": "tool_result", "tool_use_id": "t", "content": "x"}]),
        user("[Request interrupted by user]"),
        user([{"type": "text", "text": "  block   prompt  "}]),
    ]
    f = build_lines([("main", lines)])
    assert (f.prompts, f.first_prompt, f.title) == (1, "block prompt", "block prompt")


def test_system_error_lines_count_as_api_errors_and_recent_is_bounded() -> None:
    lines = [
        orjson.dumps(
            {
                "type": "system",
                "level": "error",
                "content": f"overloaded {i}",
                "timestamp": f"2026-01-01T00:{i:02d}:00Z",
            }
        )
        for i in range(25)
    ]
    f = build_lines([("main", lines)])
    assert f.errors.api == 25
    assert len(f.errors.recent) == 20
    assert f.errors.recent[-1] == utc("2026-01-01T00:24:00")
    assert f.errors.last_message == "overloaded 24"
