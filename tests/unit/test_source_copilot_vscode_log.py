"""Copilot Chat's newer change log (`chatSessions/<id>.jsonl`), replayed as VS Code's
`objectMutationLog` writes it (formats.md §4.1): kind 0 = the document, 1 = set at a path,
2 = cut the array at `i` (when given) and append, 3 = delete. Hand-built: no public log exists.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from llm_session_manager.core.sources.copilot_log import replay_log
from llm_session_manager.core.sources.copilot_vscode import CopilotVSCodeSource
from llm_session_manager.core.tokens import count_tokens

SESSION = "5e55a0b1-0000-4000-8000-00000000c0de"
FOLDER = "/home/dev/src/api"
T0 = 1_770_650_031_889


def _request(rid: str, text: str, at: int) -> dict[str, Any]:
    return {"requestId": rid, "timestamp": at, "message": {"text": text}, "response": [],
            "modelId": "copilot/gpt-4o", "variableData": {"variables": [{"big": "x" * 1000}]}}


LOG: list[dict[str, Any]] = [
    {"kind": 0, "v": {"version": 3, "sessionId": SESSION, "creationDate": T0, "requests": []}},
    {"kind": 2, "k": ["requests"], "v": [_request("r1", "Hello", T0 + 1000)]},
    {"kind": 2, "k": ["requests", 0, "response"], "v": [{"value": "Hi"}]},
    {"kind": 1, "k": ["requests", 0, "result"],
     "v": {"metadata": {"promptTokens": 1200, "outputTokens": 30,
                        "renderedUserMessage": [{"text": "y" * 5000}]}}},
    {"kind": 1, "k": ["customTitle"], "v": "Draft title"},
    {"kind": 2, "k": ["requests"], "v": [_request("r2", "Fix the bug", T0 + 5000)]},
    {"kind": 2, "k": ["requests", 1, "response"], "v": [{"value": "Looking…"}]},
    # The reply re-rendered: VS Code cuts the array at 0 and appends the new parts.
    {"kind": 2, "k": ["requests", 1, "response"], "i": 0,
     "v": [{"value": "Fixed "}, {"kind": "inlineReference", "inlineReference": {}},
           {"value": "it."}]},
    {"kind": 1, "k": ["requests", 1, "result"],
     "v": {"errorDetails": {"message": "Rate limit exceeded"}}},
    {"kind": 3, "k": ["customTitle"]},
    {"kind": 2, "k": ["requests"], "v": [{**_request("r3", "Explain", T0 + 9000),
                                          "modelId": "copilot/claude-sonnet-4"}]},
    {"kind": 1, "k": ["requests", 2, "result"],
     "v": {"metadata": {"promptTokens": 2500, "outputTokens": 80,
                        "resolvedModel": "claude-sonnet-4-20250514"}}},
]
PARTIAL = b'{"kind":2,"k":["requests"],"v":[{"requestId":"r4","message":{"te'


def _write(user: Path, lines: list[bytes]) -> Path:
    folder = user / "workspaceStorage" / "77aa" / "chatSessions"
    folder.mkdir(parents=True)
    (folder.parent / "workspace.json").write_text(json.dumps({"folder": f"file://{FOLDER}"}))
    path = folder / f"{SESSION}.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def _lines() -> list[bytes]:
    return [json.dumps(entry).encode() + b"\n" for entry in LOG]


def test_replay_rebuilds_the_document() -> None:
    replay = replay_log(io.BytesIO(b"".join(_lines()) + PARTIAL))
    doc = replay.doc
    assert doc is not None and replay.bad_lines == []
    assert [r["requestId"] for r in doc["requests"]] == ["r1", "r2", "r3"]  # r4 is unfinished
    assert doc["requests"][1]["response"] == [
        {"value": "Fixed "}, {"kind": "inlineReference", "inlineReference": {}}, {"value": "it."}]
    assert "customTitle" not in doc  # set, then deleted
    # Parts no fact is read from are dropped as they arrive.
    assert "variableData" not in doc["requests"][0]
    assert "renderedUserMessage" not in doc["requests"][0]["result"]["metadata"]


def test_log_session_facts(tmp_path: Path) -> None:
    user = tmp_path / "User"
    path = _write(user, [*_lines(), PARTIAL])
    (path.parent / f"{SESSION}.json").write_text("{}")  # stale whole copy: the log wins
    source = CopilotVSCodeSource([user], count_tokens=count_tokens)
    assert source.watched() == [str(path)]
    result = source.read(source.watched())
    assert result.problems == ()
    (facts,) = result.facts
    assert facts.key.session_id == SESSION and facts.cwd == FOLDER
    assert facts.title == "Hello"  # the custom title was deleted: the first prompt stands in
    assert (facts.prompts, facts.replies) == (3, 3)
    assert facts.usage.source == "counted"  # the second turn recorded no counts
    assert facts.usage.input == 1200 + count_tokens("Fix the bug") + 2500
    assert facts.usage.output == 30 + count_tokens("Fixed it.") + 80
    assert facts.model == "claude-sonnet-4-20250514"  # resolvedModel of the latest turn
    assert {m.model for m in facts.by_model} == {"copilot/gpt-4o", "claude-sonnet-4-20250514"}
    assert facts.context.tokens == 2500
    assert (facts.errors.api, facts.errors.last_message) == (1, "Rate limit exceeded")
    assert facts.started_at is not None and facts.started_at.timestamp() * 1000 == T0
    assert facts.last_activity_at is not None
    assert facts.last_activity_at.timestamp() * 1000 == T0 + 9000


def test_a_turn_without_result_is_in_progress(tmp_path: Path) -> None:
    user = tmp_path / "User"
    _write(user, _lines()[:7])  # r2 asked, reply streaming, no result yet
    source = CopilotVSCodeSource([user], count_tokens=count_tokens)
    (facts,) = source.read(source.watched()).facts
    assert facts.turn_hint == "working"
    assert facts.context.tokens == 1200  # the last finished turn's prompt


def test_bad_and_oversized_lines_are_problems_with_line_numbers(tmp_path: Path) -> None:
    user = tmp_path / "User"
    lines = _lines()
    limit = max(len(line) for line in lines)
    huge = b'{"kind":1,"k":["x"],"v":"' + b"z" * 3 * limit + b'"}\n'
    path = _write(user, [lines[0], b"not json\n", huge, *lines[1:]])
    source = CopilotVSCodeSource([user], count_tokens=count_tokens, max_line_bytes=limit)
    result = source.read(source.watched())
    assert [(p.where, p.message) for p in result.problems] == [
        (f"{path}:2", "not a change-log line"), (f"{path}:3", "line too long, skipped")]
    assert result.facts[0].prompts == 3  # the lines after them still apply


def test_a_log_without_its_document_is_a_problem(tmp_path: Path) -> None:
    user = tmp_path / "User"
    path = _write(user, _lines()[1:])
    source = CopilotVSCodeSource([user], count_tokens=count_tokens)
    result = source.read(source.watched())
    assert result.facts == ()
    assert [p.where for p in result.problems] == [str(path)]
