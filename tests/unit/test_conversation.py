"""Conversations read from the real Claude Code and Codex records, and the bounds they keep."""

from __future__ import annotations

from pathlib import Path

import orjson

from llm_session_manager.core.conversation import (
    MAX_TOOL_RESULT_CHARS,
    ConversationBuilder,
    Turn,
    bounded_turn,
    shorten,
)
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import ConversationReader
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.codex import CodexSource

MYAPP = Path(".claude/projects/-home-dev-src-myapp")
CODEX_DAY = Path(".codex/sessions/2026/11/24")
COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"
API_ERROR = "67be10ac-6ba8-400a-83bd-0308eb215532"
SUBAGENT = "c065c4b0-94cd-4361-87a1-940b36729be3"
CODEX_FAIL = "rollout-2026-11-24T23-08-06-01a20fd1-0524-7aa0-bb11-fe5f97df676a.jsonl"
CODEX_API_ERROR = "rollout-2026-11-24T23-08-07-01a20fd1-07f6-7b43-b4e1-739ccdd52e13.jsonl"


def claude(home: Path, session_id: str) -> list[Turn]:
    paths = [str(home / MYAPP / f"{session_id}.jsonl")]
    paths += sorted(str(p) for p in (home / MYAPP / session_id / "subagents").glob("*.jsonl"))
    facts = SessionFacts(SessionKey("claude-code", session_id), paths=tuple(paths))
    return list(ClaudeCodeSource([home / ".claude"]).conversation(facts).turns)


def codex(home: Path, name: str) -> list[Turn]:
    facts = SessionFacts(SessionKey("codex", "x"), paths=(str(home / CODEX_DAY / name),))
    return list(CodexSource([home / ".codex"]).conversation(facts).turns)


def test_both_sources_offer_the_optional_reader(sample_home: Path) -> None:
    assert isinstance(ClaudeCodeSource([sample_home / ".claude"]), ConversationReader)
    assert isinstance(CodexSource([sample_home / ".codex"]), ConversationReader)


def test_claude_turns_of_a_resumed_and_compacted_session(sample_home: Path) -> None:
    turns = claude(sample_home, COMPACTED)
    prompts = [t.text for t in turns if t.role == "user"]
    assert prompts == [
        "[[tool:bash]] please list the files",
        "third turn via --resume",
        "fourth turn after compact",
    ]
    call = next(t for t in turns if t.role == "tool_call")
    assert (call.tool, call.tool_input) == ("Bash", "ls")
    result = next(t for t in turns if t.role == "tool_result")
    assert (result.tool, result.text, result.is_error) == ("Bash", "README.md", False)
    compactions = [t for t in turns if t.role == "compaction"]
    assert len(compactions) == 1
    assert "manual" in compactions[0].text and "9841" in compactions[0].text
    # Streamed blocks of one message become separate turns, each once; meta lines are dropped.
    assert [t.role for t in turns[:5]] == ["user", "assistant", "tool_call", "tool_result",
                                           "assistant"]  # fmt: skip
    assert not any("Continue from where you left off" in t.text for t in turns)
    assert all(t.timestamp is not None for t in turns)


def test_claude_failed_tool_and_api_error(sample_home: Path) -> None:
    failed = [t for t in claude(sample_home, TOOL_ERROR) if t.is_error]
    assert len(failed) == 1
    assert failed[0].role == "tool_result" and failed[0].tool == "Read"
    assert failed[0].text.startswith("File does not exist")
    errors = [t for t in claude(sample_home, API_ERROR) if t.role == "error"]
    assert len(errors) == 1 and "deliberately rejected" in errors[0].text


def test_claude_subagent_turns_are_marked_and_placed_in_time(sample_home: Path) -> None:
    turns = claude(sample_home, SUBAGENT)
    sub = [t for t in turns if t.subagent]
    assert [t.text for t in sub if t.role == "user"] == ["Say hi from the subagent"]
    # The subagent worked during the parent's Agent call: between the call and its result.
    roles = [(t.role, t.subagent) for t in turns]
    call = roles.index(("tool_call", False))
    result = roles.index(("tool_result", False))
    assert all(call < i < result for i, t in enumerate(turns) if t.subagent)


def test_claude_repeated_lines_and_streamed_copies_are_kept_once(sample_home: Path) -> None:
    path = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    before = claude(sample_home, COMPACTED)
    lines = path.read_bytes().splitlines()
    streamed = [line for line in lines if b'"type":"assistant"' in line.replace(b" ", b"")]
    copy = orjson.loads(streamed[0])
    copy["uuid"] = "11111111-2222-4333-8444-555555555555"  # a new line repeating one block
    with path.open("ab") as handle:
        handle.write(streamed[0] + b"\n" + orjson.dumps(copy) + b"\n")
    assert claude(sample_home, COMPACTED) == before


def test_codex_failed_command_prompt_and_reply(sample_home: Path) -> None:
    turns = codex(sample_home, CODEX_FAIL)
    assert [t.role for t in turns] == ["user", "tool_call", "tool_result", "assistant"]
    assert turns[0].text == "[[tool:fail]] list a missing dir"  # once, without the env block
    assert (turns[1].tool, turns[1].tool_input) == ("exec_command", "ls /nonexistent-dir")
    assert turns[2].is_error and turns[2].tool == "exec_command"
    assert "Process exited with code 2" in turns[2].text


def test_codex_api_error_and_resumed_turn(sample_home: Path) -> None:
    turns = codex(sample_home, CODEX_API_ERROR)
    assert [t.role for t in turns] == ["user", "error", "user", "assistant"]
    assert turns[1].text == "mock: deliberately rejected ([[apierror]])"
    assert turns[2].text == "second turn via exec resume --last"


def test_codex_compaction_written_several_ways_counts_once(sample_home: Path) -> None:
    path = sample_home / CODEX_DAY / CODEX_FAIL
    stamp = '"timestamp":"2026-11-24T23:09:00.000Z"'
    with path.open("ab") as handle:
        handle.write(b'{%s,"type":"compacted","payload":{"message":"summary"}}\n' % stamp.encode())
        handle.write(b'{%s,"type":"event_msg","payload":{"type":"context_compacted"}}\n'
                     % stamp.encode())  # fmt: skip
        handle.write(b"{not json\n")
    conversation = CodexSource([]).conversation(
        SessionFacts(SessionKey("codex", "x"), paths=(str(path),))
    )
    assert [t.role for t in conversation.turns].count("compaction") == 1
    assert conversation.skipped_lines == 1
    assert conversation.note is not None and "1 unreadable" in conversation.note


def test_tool_output_is_shortened_and_says_so() -> None:
    turn = bounded_turn(Turn("tool_result", "x" * 10_000))
    assert len(turn.text) <= MAX_TOOL_RESULT_CHARS
    assert turn.text.endswith("more characters]")
    assert shorten("short", 10) == "short"


def test_builder_keeps_the_start_and_the_end_and_counts_the_rest() -> None:
    builder = ConversationBuilder(max_turns=10, head=3)
    for i in range(25):
        builder.add(Turn("user", str(i)))
    conversation = builder.build()
    assert [t.text for t in conversation.turns] == ["0", "1", "2", *map(str, range(18, 25))]
    assert conversation.omitted_turns == 15
    assert conversation.note is not None and "15 turns" in conversation.note


def test_missing_files_give_an_empty_conversation_not_an_error(tmp_path: Path) -> None:
    facts = SessionFacts(SessionKey("codex", "x"), paths=(str(tmp_path / "gone.jsonl"),))
    assert CodexSource([]).conversation(facts).unavailable == "the rollout file is gone"
    facts = SessionFacts(SessionKey("claude-code", "x"), paths=(str(tmp_path / "gone.jsonl"),))
    assert ClaudeCodeSource([]).conversation(facts).turns == ()
