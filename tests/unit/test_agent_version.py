"""Each session's agent version, as the real clients' own records give it.

The expected values are read from the record files here (the field each format names), so the
tests follow the sample files rather than a copy of their contents.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_records import build_files
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.claude_records import ClaudeFileAccumulator
from llm_session_manager.core.sources.codex import CodexSource
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource
from llm_session_manager.core.sources.copilot_events import EventsAccumulator
from llm_session_manager.core.sources.copilot_vscode import CopilotVSCodeSource
from llm_session_manager.core.sources.gemini import GeminiSource
from llm_session_manager.core.sources.opencode import OpencodeSource

DATA = Path(__file__).resolve().parents[1] / "data"
HOME = DATA / "real-clients" / "home"
OPENCODE_DATA = DATA / "real-clients" / "opencode-home" / ".local" / "share" / "opencode"
COPILOT_CHAT = DATA / "public" / "copilot-vscode" / "splitrail__copilot.trimmed.json"
WITH_SUBAGENT = "c065c4b0-94cd-4361-87a1-940b36729be3"

Record = dict[str, Any]


def records(path: Path) -> list[Record]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def newest(path: Path, field: Callable[[Record], Any]) -> str | None:
    """The value the newest record of the file gives for `field`."""
    found = None
    for record in records(path):
        value = field(record)
        if isinstance(value, str) and value:
            found = value
    return found


def payload(record: Record, kind: str, name: str) -> Any:
    if record.get("type") != kind or not isinstance(record.get("payload"), dict):
        return None
    return record["payload"].get(name)


# -- the real clients' records ------------------------------------------------------------


def test_claude_code_sessions_carry_their_cli_version() -> None:
    facts = build_files(ClaudeCodeSource([HOME / ".claude"]), "claude-code")
    mains = {p.stem: p for p in (HOME / ".claude" / "projects").glob("*/*.jsonl")}
    assert set(facts) == set(mains)
    for sid, path in mains.items():
        expected = newest(path, lambda r: r.get("version"))
        assert expected, path  # every real transcript names its CLI
        assert facts[sid].agent_version == expected, sid


def test_codex_sessions_carry_the_cli_version_of_their_session_meta() -> None:
    facts = build_files(CodexSource([HOME / ".codex"]), "codex")
    rollouts = list((HOME / ".codex" / "sessions").rglob("rollout-*.jsonl"))
    assert len(facts) == len(rollouts)
    for path in rollouts:
        meta = records(path)[0]
        expected = payload(meta, "session_meta", "cli_version")
        assert expected, path
        assert facts[payload(meta, "session_meta", "id")].agent_version == expected


def test_copilot_cli_sessions_carry_the_version_their_start_names() -> None:
    facts = build_files(CopilotCliSource([HOME / ".copilot"]), "copilot-cli")
    logs = list((HOME / ".copilot" / "session-state").glob("*/events.jsonl"))
    assert set(facts) == {p.parent.name for p in logs}
    for path in logs:
        expected = newest(path, lambda r: (r.get("data") or {}).get("copilotVersion"))
        assert expected, path
        assert facts[path.parent.name].agent_version == expected


def test_gemini_records_name_no_version_and_none_is_made_up() -> None:
    chats = list((HOME / ".gemini" / "tmp").glob("*/chats/*.jsonl"))
    # Gemini CLI 0.61 writes no version in its header line nor in any record.
    assert chats and not any(b"Version" in p.read_bytes() for p in chats)
    facts = build_files(GeminiSource([HOME / ".gemini"]), "gemini")
    assert facts and all(f.agent_version is None for f in facts.values())


def test_opencode_sessions_carry_the_version_of_their_row(tmp_path: Path) -> None:
    data_dir = tmp_path / "opencode"
    shutil.copytree(OPENCODE_DATA, data_dir)
    with sqlite3.connect(f"file:{data_dir / 'opencode.db'}?mode=ro", uri=True) as db:
        expected = dict(db.execute("SELECT id, version FROM session WHERE parent_id IS NULL"))
    source = OpencodeSource([data_dir])
    facts = {f.key.session_id: f for f in source.read(source.watched()).facts}
    assert expected and all(expected.values())
    assert {sid: f.agent_version for sid, f in facts.items()} == expected


def _chat_user_dir(tmp_path: Path, document: Record) -> Path:
    user = tmp_path / "Code" / "User"
    chats = user / "workspaceStorage" / "9a1b" / "chatSessions"
    chats.mkdir(parents=True)
    (chats / f"{document['sessionId']}.json").write_text(json.dumps(document))
    return user


def _chat_facts(user: Path) -> SessionFacts:
    source = CopilotVSCodeSource([user], count_tokens=lambda text: len(text.split()))
    (facts,) = source.read(source.watched()).facts
    return facts


def test_copilot_chat_takes_the_extension_version_of_its_newest_request(tmp_path: Path) -> None:
    document = json.loads(COPILOT_CHAT.read_text())
    versions = [r["agent"]["extensionVersion"] for r in document["requests"] if "agent" in r]
    assert versions
    assert _chat_facts(_chat_user_dir(tmp_path / "a", document)).agent_version == versions[-1]
    # A newer extension answering the latest request names the session's version now.
    document["requests"][-1]["agent"] = {**document["requests"][-1]["agent"],
                                         "extensionVersion": "0.99.1"}
    assert _chat_facts(_chat_user_dir(tmp_path / "b", document)).agent_version == "0.99.1"
    for request in document["requests"]:
        request.pop("agent", None)
    assert _chat_facts(_chat_user_dir(tmp_path / "c", document)).agent_version is None


# -- Claude Code: which line, which file ----------------------------------------------------


def _claude_lines(sid: str) -> list[bytes]:
    path = next((HOME / ".claude" / "projects").glob(f"*/{sid}.jsonl"))
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def _with_version(line: bytes, version: str | None) -> bytes:
    record = orjson.loads(line)
    if version is None:
        record.pop("version", None)
    else:
        record["version"] = version
    return orjson.dumps(record)


def _versioned(lines: list[bytes]) -> list[bytes]:
    return [line for line in lines if b'"version":' in line]


def _build(*files: tuple[str, ClaudeFileAccumulator]) -> SessionFacts:
    tracked = [(TrackedFile(acc.path, WITH_SUBAGENT, role), acc) for role, acc in files]
    return ClaudeCodeSource([]).build(SessionKey("claude-code", WITH_SUBAGENT), tracked)


def test_claude_newest_line_wins_and_a_line_without_one_keeps_it() -> None:
    acc = ClaudeFileAccumulator("/main.jsonl")
    lines = _claude_lines(WITH_SUBAGENT)
    for line in lines:
        acc.feed(line)
    resumed = _versioned(lines)[-1]
    acc.feed(_with_version(resumed, "2.3.4"))  # a resume by a newer CLI appends here
    assert _build(("main", acc)).agent_version == "2.3.4"
    acc.feed(_with_version(resumed, None))
    acc.feed(_with_version(resumed, ""))
    assert _build(("main", acc)).agent_version == "2.3.4"


def test_claude_main_transcript_names_the_version_before_a_subagent() -> None:
    main, sub = ClaudeFileAccumulator("/main.jsonl"), ClaudeFileAccumulator("/agent-1.jsonl")
    line = _versioned(_claude_lines(WITH_SUBAGENT))[-1]
    main.feed(_with_version(line, "2.1.1"))
    sub.feed(_with_version(line, "2.9.9"))
    assert _build(("main", main), ("subagent", sub)).agent_version == "2.1.1"
    # Only a subagent's lines are read so far: its version stands in.
    assert _build(("subagent", sub)).agent_version == "2.9.9"


# -- saved accumulator states -----------------------------------------------------------------


def test_claude_state_keeps_the_version_and_an_older_state_loads_without_it() -> None:
    acc = ClaudeFileAccumulator("/main.jsonl")
    lines = _claude_lines(WITH_SUBAGENT)
    for line in lines:
        acc.feed(line)
    state = orjson.loads(orjson.dumps(acc.dump()))
    assert ClaudeFileAccumulator.from_state("/main.jsonl", state).cli_version == acc.cli_version
    assert acc.cli_version
    del state["cli_version"]  # saved before versions were kept
    old = ClaudeFileAccumulator.from_state("/main.jsonl", state)
    assert old.cli_version is None
    old.feed(_with_version(_versioned(lines)[-1], "2.4.0"))
    assert old.cli_version == "2.4.0"


def test_codex_state_keeps_the_version_and_an_older_state_loads_without_it() -> None:
    path = next((HOME / ".codex" / "sessions").rglob("rollout-*.jsonl"))
    acc = RolloutAccumulator()
    for line in path.read_bytes().splitlines():
        acc.feed(line)
    state = orjson.loads(orjson.dumps(acc.dump()))
    assert acc.cli_version and RolloutAccumulator.restore(state).cli_version == acc.cli_version
    del state["cli_version"]
    assert RolloutAccumulator.restore(state).cli_version is None


def test_copilot_cli_state_keeps_the_version_and_an_older_state_loads_without_it() -> None:
    path = next((HOME / ".copilot" / "session-state").glob("*/events.jsonl"))
    acc = EventsAccumulator()
    for line in path.read_bytes().splitlines():
        acc.feed(line)
    state = orjson.loads(orjson.dumps(acc.dump()))
    assert acc.cli_version
    assert EventsAccumulator.restore(state).cli_version == acc.cli_version
    del state["cli_version"]
    assert EventsAccumulator.restore(state).cli_version is None


@pytest.mark.parametrize("kind", ["session.start", "session.resume"])
def test_copilot_cli_a_later_start_or_resume_naming_a_version_updates_it(kind: str) -> None:
    acc = EventsAccumulator()
    event = {"type": kind, "timestamp": "2026-11-24T23:11:46.421Z",
             "data": {"sessionId": "s", "copilotVersion": "1.0.102"}}  # fmt: skip
    acc.feed(orjson.dumps(event))
    event["data"] = {"sessionId": "s"}  # 1.0.102's resume names none: the version stays
    acc.feed(orjson.dumps(event))
    assert acc.cli_version == "1.0.102"
    event["data"] = {"sessionId": "s", "copilotVersion": "1.1.0"}
    acc.feed(orjson.dumps(event))
    assert acc.cli_version == "1.1.0"
