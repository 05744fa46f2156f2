"""Claude Code's, Codex's, Gemini CLI's and Copilot CLI's timelines from their records, against
the facts the poller builds from the same files: the last point is the session's total, the
compactions are the records'."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import TimelineReader
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.codex import CodexSource
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.core.timeline import MAX_POINTS, Timeline
from llm_session_manager.core.tokens import count_tokens

REAL_HOME = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "home"
COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"


def _facts_and_timelines(home: Path, agent: str) -> list[tuple[SessionFacts, Timeline]]:
    config = Config()
    sources = build_sources(config, {}, home, count_tokens=count_tokens)
    poller = Poller(sources, None, config, scan_processes=ProcessTable)
    snapshot = poller.poll_once(advise=False)
    source = poller.source_for(agent)
    assert isinstance(source, TimelineReader)
    return [(s.facts, source.timeline(s.facts)) for s in snapshot.sessions if s.key.agent == agent]


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _assert_in_order(timeline: Timeline) -> None:
    ats = [p.at for p in timeline.points]
    totals = [p.total_tokens for p in timeline.points]
    assert ats == sorted(ats)
    assert totals == sorted(totals)  # cumulative


# -- Claude Code ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claude() -> dict[str, tuple[SessionFacts, Timeline]]:
    return {f.key.session_id: (f, t) for f, t in _facts_and_timelines(REAL_HOME, "claude-code")}


def test_every_real_claude_session_ends_at_its_total(claude: dict[str, Any]) -> None:
    assert len(claude) == 8
    for facts, timeline in claude.values():
        assert facts.usage.source == "exact"  # no counted replies: the totals must agree
        assert timeline.points, facts.key
        assert timeline.points[-1].total_tokens == facts.usage.total, facts.key
        assert timeline.points[-1].context_tokens == facts.context.tokens, facts.key
        assert len(timeline.compactions) == facts.context.compactions, facts.key
        _assert_in_order(timeline)
    # The session with a subagent: the subagent's requests are in the total, at their times.
    facts, timeline = claude["c065c4b0-94cd-4361-87a1-940b36729be3"]
    assert len(facts.paths) == 2 and len(timeline.points) == 4


def test_claude_compaction_is_the_records_boundary_with_the_context_after_it(
    claude: dict[str, Any],
) -> None:
    facts, timeline = claude[COMPACTED]
    transcript = Path(facts.paths[0])
    boundaries = [
        r for r in map(orjson.loads, transcript.read_bytes().splitlines())
        if r.get("subtype") == "compact_boundary" and not r.get("isSidechain")
    ]  # fmt: skip
    assert len(boundaries) == 1
    at = _seconds(boundaries[0]["timestamp"])
    assert timeline.compactions == (at,)
    point = next(p for p in timeline.points if p.at == at)
    assert point.context_tokens == boundaries[0]["compactMetadata"]["postTokens"] == 591
    before = [p for p in timeline.points if p.at < at]
    assert before[-1].context_tokens == 9_832  # the last request before /compact


def _assistant(n: int, ts: str, tokens: tuple[int, int, int, int], **extra: Any) -> dict[str, Any]:
    inp, out, creation, read = tokens
    return {
        "type": "assistant", "timestamp": ts, "uuid": f"u{n}-{extra.pop('copy', 0)}",
        "sessionId": "big", "isSidechain": False, "requestId": f"req{n}",
        "message": {"id": f"msg{n}", "role": "assistant", "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": inp, "output_tokens": out,
                              "cache_creation_input_tokens": creation,
                              "cache_read_input_tokens": read}},
        **extra,
    }  # fmt: skip


def _ts(i: int) -> str:
    return f"2026-03-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z"


def test_a_long_claude_session_is_thinned_to_the_bound_keeping_compactions(
    tmp_path: Path,
) -> None:
    project = tmp_path / ".claude" / "projects" / "-big"
    (project / "big" / "subagents").mkdir(parents=True)
    lines: list[dict[str, Any]] = []
    compactions: list[float] = []
    for i in range(1, 1_503):
        if i % 500 == 0:
            lines.append({"type": "system", "subtype": "compact_boundary", "timestamp": _ts(i),
                          "uuid": f"c{i}", "isSidechain": False,
                          "compactMetadata": {"preTokens": 90_000, "postTokens": 3_000}})
            compactions.append(_seconds(_ts(i)))
            continue
        context = 3_000 + 100 * (i % 500)
        # streamed: one line per content block, the usage repeated; the last copy is largest
        lines.append(_assistant(i, _ts(i), (context, 1, 0, 0)))
        lines.append(_assistant(i, _ts(i), (context, 40, 0, 0), copy=1))
    (project / "big.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    side = [_assistant(9_000 + i, _ts(2 * i + 1), (500, 5, 0, 0), isSidechain=True)
            for i in range(200)]  # fmt: skip
    (project / "big" / "subagents" / "agent-a1.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in side)
    )
    [(facts, timeline)] = _facts_and_timelines(tmp_path, "claude-code")
    assert len(facts.paths) == 2
    expected = sum(3_000 + 100 * (i % 500) + 40 for i in range(1, 1_503) if i % 500) + 200 * 505
    assert timeline.points[-1].total_tokens == facts.usage.total == expected
    assert len(timeline.points) <= MAX_POINTS
    assert timeline.compactions == tuple(compactions)
    by_time = {p.at: p for p in timeline.points}
    assert all(by_time[at].context_tokens == 3_000 for at in compactions)
    assert timeline.points[-1].context_tokens == 3_200  # the main thread's last request
    assert max(p.context_tokens or 0 for p in timeline.points) == 3_000 + 100 * 499  # a peak kept
    _assert_in_order(timeline)


def test_a_half_written_last_line_is_left_out(tmp_path: Path) -> None:
    [(facts, whole)] = [
        (f, t) for f, t in _facts_and_timelines(REAL_HOME, "claude-code")
        if f.key.session_id == COMPACTED
    ]  # fmt: skip
    copy = tmp_path / "t.jsonl"
    line = orjson.dumps(_assistant(1, "2030-01-01T00:00:00.000Z", (5_000, 5, 0, 0)))
    moved = SessionFacts(facts.key, paths=(str(copy),))
    for unfinished in (line[: len(line) // 2], line):  # cut short; whole but no newline yet
        copy.write_bytes(Path(facts.paths[0]).read_bytes() + unfinished)
        assert ClaudeCodeSource([]).timeline(moved) == whole
    copy.write_bytes(Path(facts.paths[0]).read_bytes() + line + b"\n")
    assert ClaudeCodeSource([]).timeline(moved).points[-1].total_tokens == 38_818 + 5_005


# -- Codex ------------------------------------------------------------------------------------


def test_every_real_codex_session_ends_at_its_total() -> None:
    found = _facts_and_timelines(REAL_HOME, "codex")
    assert len(found) == 7
    for facts, timeline in found:
        assert timeline.points, facts.key
        assert timeline.points[-1].total_tokens == facts.usage.total, facts.key
        assert timeline.points[-1].context_tokens == facts.context.tokens, facts.key
        assert timeline.compactions == ()
        _assert_in_order(timeline)
    assert max(len(t.points) for _, t in found) == 2  # a point per token_count


def _line(kind: str, payload: dict[str, Any], ts: str) -> bytes:
    return orjson.dumps({"timestamp": ts, "type": kind, "payload": payload}) + b"\n"


def _count(total: tuple[int, int, int, int], last: int, ts: str) -> bytes:
    names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    usage = dict(zip(names, total, strict=True))
    info = {"total_token_usage": usage, "last_token_usage": {**usage, "total_tokens": last}}
    return _line("event_msg", {"type": "token_count", "info": info}, ts)


def _codex(tmp_path: Path, lines: list[bytes]) -> tuple[SessionFacts, Timeline]:
    folder = tmp_path / ".codex" / "sessions" / "2026" / "01" / "01"
    folder.mkdir(parents=True)
    name = "rollout-2026-01-01T10-00-00-11111111-2222-4333-8444-555555555555.jsonl"
    (folder / name).write_bytes(b"".join(lines))
    [(facts, timeline)] = _facts_and_timelines(tmp_path, "codex")
    return facts, timeline


def test_codex_compaction_written_as_several_lines_is_one(tmp_path: Path) -> None:
    facts, timeline = _codex(tmp_path, [
        _line("turn_context", {"model": "gpt-5"}, "2026-01-01T10:00:00.000Z"),
        _count((9_000, 4_000, 100, 20), 9_100, "2026-01-01T10:00:01.000Z"),
        _line("compacted", {"message": "summary"}, "2026-01-01T10:00:02.000Z"),
        _line("event_msg", {"type": "context_compacted"}, "2026-01-01T10:00:02.100Z"),
        _count((12_000, 4_000, 150, 20), 2_500, "2026-01-01T10:00:03.000Z"),
    ])  # fmt: skip
    assert facts.context.compactions == 1
    assert timeline.compactions == (_seconds("2026-01-01T10:00:02.000Z"),)
    # Codex counts cached input inside input: the total is input + output, as in the facts.
    assert [(p.total_tokens, p.context_tokens) for p in timeline.points] == [
        (9_100, 9_100), (9_100, None), (12_150, 2_500)
    ]
    assert timeline.points[-1].total_tokens == facts.usage.total


def test_codex_subagent_replay_of_its_parent_is_not_drawn(tmp_path: Path) -> None:
    meta = {"id": "c", "cwd": "/p", "source": {"subagent": {"thread_spawn": {"parent": "p"}}}}
    facts, timeline = _codex(tmp_path, [
        _line("session_meta", meta, "2026-01-01T10:00:00.000Z"),
        _count((100, 0, 10, 0), 110, "2026-01-01T10:00:00.200Z"),  # the parent's, replayed
        _count((200, 0, 20, 0), 110, "2026-01-01T10:00:00.300Z"),
        _count((260, 0, 26, 0), 66, "2026-01-01T10:00:05.000Z"),  # its own call
    ])  # fmt: skip
    assert [(p.total_tokens, p.context_tokens) for p in timeline.points] == [(66, 66)]
    assert facts.usage.total == 66


def test_codex_reads_the_newest_copy(tmp_path: Path) -> None:
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old.write_bytes(_count((100, 0, 10, 0), 110, "2026-01-01T10:00:00.000Z"))
    new.write_bytes(old.read_bytes() + _count((300, 0, 30, 0), 220, "2026-01-01T10:01:00.000Z"))
    facts = SessionFacts(SessionKey("codex", "x"), paths=(str(old), str(new)))
    timeline = CodexSource([]).timeline(facts)
    assert timeline.points[-1].total_tokens == 330


# -- Gemini CLI -------------------------------------------------------------------------------


def test_every_real_gemini_session_ends_at_its_total() -> None:
    found = _facts_and_timelines(REAL_HOME, "gemini")
    assert found
    for facts, timeline in found:
        assert timeline.points, facts.key
        assert timeline.points[-1].total_tokens == facts.usage.total, facts.key
        assert timeline.points[-1].context_tokens == facts.context.tokens, facts.key
        assert len(timeline.points) <= facts.replies  # a point per reply with tokens
        _assert_in_order(timeline)
    # The resumed session replays its history in a `$set`: a reply written twice and the
    # replayed copies add no point.
    assert max(len(t.points) for _, t in found) == max(f.replies for f, _ in found)


def _gemini(
    tmp_path: Path, *lines: dict[str, Any], subagent: tuple[dict[str, Any], ...] = ()
) -> tuple[SessionFacts, Timeline]:
    chats = tmp_path / ".gemini" / "tmp" / "demo" / "chats"
    chats.mkdir(parents=True)
    if subagent:
        (chats / "g-1").mkdir()
        (chats / "g-1" / "sub-1.jsonl").write_bytes(b"".join(
            orjson.dumps(line) + b"\n" for line in ({"sessionId": "sub-1", "kind": "subagent"},
                                                    *subagent)))  # fmt: skip
    header = {"sessionId": "g-1", "projectHash": "h", "startTime": "2026-01-01T10:00:00Z",
              "kind": "main"}  # fmt: skip
    (chats / "session-2026-01-01T10-00-g1.jsonl").write_bytes(
        b"".join(orjson.dumps(line) + b"\n" for line in (header, *lines)))
    [(facts, timeline)] = _facts_and_timelines(tmp_path, "gemini")
    return facts, timeline


def _reply(msg_id: str, ts: str, inp: int, out: int) -> dict[str, Any]:
    tokens = {"input": inp, "output": out, "cached": 0, "thoughts": 0, "tool": 0,
              "total": inp + out}  # fmt: skip
    return {"id": msg_id, "timestamp": ts, "type": "gemini", "content": "ok", "tokens": tokens,
            "model": "gemini-2.5-pro"}  # fmt: skip


def test_gemini_rewound_replies_were_billed_and_join_the_last_point(tmp_path: Path) -> None:
    facts, timeline = _gemini(
        tmp_path,
        {"id": "u1", "timestamp": "2026-01-01T10:00:01Z", "type": "user", "content": "one"},
        _reply("g1", "2026-01-01T10:00:02Z", 100, 10),
        {"id": "u2", "timestamp": "2026-01-01T10:01:00Z", "type": "user", "content": "two"},
        _reply("g2", "2026-01-01T10:01:01Z", 200, 20),
        {"$rewindTo": "u2"},
        {"id": "u3", "timestamp": "2026-01-01T10:02:00Z", "type": "user", "content": "three"},
        _reply("g3", "2026-01-01T10:02:01Z", 300, 30),
    )
    assert [(p.total_tokens, p.context_tokens) for p in timeline.points] == [
        (110, 100), (110 + 330 + 220, 300)]
    assert timeline.points[-1].total_tokens == facts.usage.total


def test_gemini_subagent_replies_add_to_the_total_not_to_the_context(tmp_path: Path) -> None:
    facts, timeline = _gemini(
        tmp_path,
        {"id": "u1", "timestamp": "2026-01-01T10:00:01Z", "type": "user", "content": "one"},
        _reply("g1", "2026-01-01T10:00:02Z", 100, 10),
        subagent=(_reply("s1", "2026-01-01T10:00:05Z", 5000, 50),),
    )
    assert len(facts.paths) == 2
    assert [(p.total_tokens, p.context_tokens) for p in timeline.points] == [
        (110, 100), (110 + 5050, 100)]
    assert (timeline.points[-1].total_tokens, timeline.points[-1].context_tokens) == (
        facts.usage.total, facts.context.tokens)


# -- Copilot CLI ------------------------------------------------------------------------------


def test_every_real_copilot_session_ends_at_its_total() -> None:
    found = _facts_and_timelines(REAL_HOME, "copilot-cli")
    assert found
    for facts, timeline in found:
        assert facts.usage.source == "exact"
        if facts.usage.total == 0:  # every call failed: nothing to draw, the samples are used
            assert timeline.points == (), facts.key
            continue
        assert timeline.points, facts.key
        assert timeline.points[-1].total_tokens == facts.usage.total, facts.key
        assert timeline.points[-1].context_tokens == facts.context.tokens, facts.key
        _assert_in_order(timeline)
    assert max(len(t.points) for _, t in found) > 1  # a point per call


def test_copilot_compaction_and_a_repeated_usage_record(tmp_path: Path) -> None:
    folder = tmp_path / ".copilot" / "session-state" / "c-1"
    folder.mkdir(parents=True)

    def event(kind: str, ts: str, **data: Any) -> bytes:
        return orjson.dumps({"type": kind, "timestamp": ts, "id": ts, "data": data}) + b"\n"

    def usage(call: str, ts: str, prompt: int, out: int) -> bytes:
        return event("session.usage_record", ts, usage={
            "model": "gpt-5", "inputTokens": prompt, "outputTokens": out, "cacheReadTokens": 0,
            "cacheWriteTokens": 0, "apiCallId": call})

    (folder / "events.jsonl").write_bytes(b"".join([
        event("session.start", "2026-01-01T10:00:00Z", sessionId="c-1",
              context={"cwd": "/home/dev/src/app"}),
        event("user.message", "2026-01-01T10:00:01Z", content="fix it"),
        usage("a", "2026-01-01T10:00:02Z", 1000, 10),
        usage("b", "2026-01-01T10:00:03Z", 5000, 20),
        event("session.compaction_complete", "2026-01-01T10:00:04Z"),
        usage("b", "2026-01-01T10:00:05Z", 5000, 20),  # repeated after a resume
        usage("c", "2026-01-01T10:00:06Z", 800, 30),
    ]))
    [(facts, timeline)] = _facts_and_timelines(tmp_path, "copilot-cli")
    assert [(p.total_tokens, p.context_tokens) for p in timeline.points] == [
        (1010, 1000), (6030, 5000), (6030, None), (6860, 800)]
    assert timeline.compactions == (_seconds("2026-01-01T10:00:04+00:00"),)
    assert timeline.points[-1].total_tokens == facts.usage.total

