"""The conversation readers of Gemini CLI, Copilot CLI, Copilot Chat, Cursor and opencode, on the
records the real clients (and, for the editors, the public sample files) wrote.

Each session's facts come from the same source, so the turns are checked against what the facts
count: the first prompt, one user turn per prompt, one assistant turn per reply where a reply is
text, and the tool calls and errors the records hold.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import (
    ConversationReader,
    FileAccumulator,
    SnapshotSource,
    TrackedFile,
)
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource
from llm_session_manager.core.sources.copilot_vscode import CopilotVSCodeSource
from llm_session_manager.core.sources.cursor import CursorSource
from llm_session_manager.core.sources.gemini import GeminiSource
from llm_session_manager.core.sources.opencode import OpencodeSource
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

DATA = Path(__file__).resolve().parents[1] / "data"
HOME = DATA / "real-clients" / "home"
OPENCODE_DIR = DATA / "real-clients" / "opencode-home" / ".local" / "share" / "opencode"
CURSOR_DB = DATA / "public" / "cursor" / "slevin48-cursor-history__workspace-state.reduced.vscdb"
COPILOT_CHAT = DATA / "public" / "copilot-vscode" / "splitrail__copilot.trimmed.json"
GEMINI_TOOL_ERROR = "adea444b-50ee-4b62-8d31-753f58b9c843"  # failed read_file, then --resume
GEMINI_SHELL = "5ab0c23d-9cc2-4c26-866d-502794381f44"  # reply written twice: with its tool call
COPILOT_BASH = "044396fc-8599-4a47-83af-1dc41d9b3542"
COPILOT_DENIED = "3d22299d-94e3-4425-82df-62793dd5d687"
COPILOT_API_ERROR = "8bc4f7a1-10ed-43ed-bff0-a6dd96773791"  # fails, --continue, fails again
OPENCODE_DEMO = "ses_df0008101ffeU7dtBTqnuNRDhR"  # 3 prompts, the last answered by an API error
CURSOR_COMPOSER = "a76419da-5045-4dcb-a1d4-307eab526a30"  # 7 prompts, 7 replies
CURSOR_TAB = "2aa483d1-573c-4039-ae4e-7415e28d2605"


def facts_of(source: object) -> dict[str, SessionFacts]:
    """Every session's facts, the way the poller gets them from this kind of source."""
    if isinstance(source, SnapshotSource):
        read = source.read(source.watched())
        assert read.problems == () and read.retry == ()
        return {f.key.session_id: f for f in read.facts}
    assert isinstance(source, GeminiSource | CopilotCliSource)
    members: dict[str, list[tuple[TrackedFile, FileAccumulator]]] = {}
    for tracked in source.discover():
        acc = source.new_accumulator(tracked)
        read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
        members.setdefault(tracked.session_id, []).append((tracked, acc))
    return {sid: source.build(SessionKey(source.agent, sid), m) for sid, m in members.items()}


def roles(conv: Conversation) -> Counter[str]:
    return Counter(t.role for t in conv.turns)


def check_against_facts(source: ConversationReader, facts: SessionFacts) -> Conversation:
    conv = source.conversation(facts)
    assert conv.note is None, facts.key
    users = [t for t in conv.turns if t.role == "user"]
    assert facts.first_prompt is not None
    # The facts keep the first 2000 characters as written; a turn's text is stripped.
    assert users[0].text[:2000].strip() == facts.first_prompt.strip()
    assert len(users) == facts.prompts
    return conv


# -- Gemini CLI ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemini() -> tuple[GeminiSource, dict[str, SessionFacts]]:
    source = GeminiSource([HOME / ".gemini"])
    return source, facts_of(source)


def test_gemini_every_session_matches_its_facts(
    gemini: tuple[GeminiSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = gemini
    assert len(sessions) == 6
    for facts in sessions.values():
        conv = check_against_facts(source, facts)
        # A reply that only calls a tool has no text: it is its tool call, not an assistant turn.
        calls_only = 1 if facts.key.session_id in (GEMINI_SHELL, GEMINI_TOOL_ERROR) else 0
        assert roles(conv)["assistant"] == facts.replies - calls_only
        assert all(t.timestamp is not None for t in conv.turns)


def test_gemini_tool_call_written_twice_appears_once_with_its_result(
    gemini: tuple[GeminiSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = gemini
    conv = source.conversation(sessions[GEMINI_SHELL])
    assert [(t.role, t.tool) for t in conv.turns] == [
        ("user", None), ("tool_call", "run_shell_command"),
        ("tool_result", "run_shell_command"), ("assistant", None)]  # fmt: skip
    assert conv.turns[1].tool_input == "ls"
    assert "a.txt" in conv.turns[2].text and not conv.turns[2].is_error


def test_gemini_failed_tool_is_an_error_and_resume_replay_is_not_repeated(
    gemini: tuple[GeminiSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = gemini
    facts = sessions[GEMINI_TOOL_ERROR]
    conv = source.conversation(facts)
    assert [t.text for t in conv.turns if t.role == "user"] == [
        "[[tool:read-missing]] read it", "second turn via --resume latest"]
    (call,) = [t for t in conv.turns if t.role == "tool_call"]
    assert (call.tool, call.paths) == ("read_file", ("/nonexistent/definitely-missing.txt",))
    (result,) = [t for t in conv.turns if t.role == "tool_result"]
    assert result.is_error and "Path not in workspace" in result.text
    assert facts.errors.tool == 1


def test_gemini_legacy_document_is_read_message_by_message() -> None:
    path = DATA / "public" / "gemini" / "agentsview__tool_calls_with_results.json"
    from llm_session_manager.core.sources.gemini_conversation import read_conversation

    conv = read_conversation([str(path)])
    assert [t.role for t in conv.turns] == [
        "user", "assistant", "tool_call", "tool_result", "tool_call", "tool_result"]
    assert conv.turns[0].text == "Read the planning doc"
    assert [t.tool_input for t in conv.turns if t.role == "tool_call"] == [
        ".planning/ONE-PAGER.md", "ls -la"]


# -- Copilot CLI --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def copilot() -> tuple[CopilotCliSource, dict[str, SessionFacts]]:
    source = CopilotCliSource([HOME / ".copilot"])
    return source, facts_of(source)


def test_copilot_cli_every_session_matches_its_facts(
    copilot: tuple[CopilotCliSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = copilot
    assert len(sessions) == 5
    for facts in sessions.values():
        conv = check_against_facts(source, facts)
        assert roles(conv)["assistant"] == facts.replies
        assert roles(conv)["error"] == facts.errors.api


def test_copilot_cli_tool_calls_results_and_failures(
    copilot: tuple[CopilotCliSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = copilot
    conv = source.conversation(sessions[COPILOT_BASH])
    assert [t.role for t in conv.turns] == [
        "user", "assistant", "tool_call", "tool_result", "assistant"]
    assert (conv.turns[2].tool, conv.turns[2].tool_input) == ("bash", "ls")
    assert conv.turns[3].text.startswith("c.txt") and not conv.turns[3].is_error
    denied = source.conversation(sessions[COPILOT_DENIED])
    (result,) = [t for t in denied.turns if t.role == "tool_result"]
    assert result.is_error and result.tool == "view" and "Permission denied" in result.text


def test_copilot_cli_api_errors_of_both_runs(
    copilot: tuple[CopilotCliSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = copilot
    conv = source.conversation(sessions[COPILOT_API_ERROR])
    assert [t.role for t in conv.turns] == ["user", "error", "user", "error"]
    assert conv.turns[2].text == "second turn via --continue"
    assert "deliberately rejected" in conv.turns[1].text


# -- Copilot Chat in VS Code --------------------------------------------------------------------


def place_copilot_chat(user: Path) -> None:
    workspace = user / "workspaceStorage" / "d4e5f6"
    (workspace / "chatSessions").mkdir(parents=True)
    session_id = json.loads(COPILOT_CHAT.read_text())["sessionId"]
    shutil.copy(COPILOT_CHAT, workspace / "chatSessions" / f"{session_id}.json")
    (workspace / "workspace.json").write_text(json.dumps({"folder": "file:///home/dev/src/vs"}))


def test_copilot_chat_requests_replies_and_tool_invocations(tmp_path: Path) -> None:
    user = tmp_path / "Code" / "User"
    place_copilot_chat(user)
    source = CopilotVSCodeSource([user])
    (facts,) = facts_of(source).values()
    conv = check_against_facts(source, facts)
    count = roles(conv)
    assert count["assistant"] == facts.replies == 3
    assert count["tool_call"] == count["tool_result"] == 13
    assert count["error"] == 0
    read = next(t for t in conv.turns if t.tool == "copilot_readFile")
    assert read.paths == ("/home/sample/workspace/splitrail/src/main.rs",)
    assert read.tool_input == "Reading /home/sample/workspace/splitrail/src/main.rs"
    # Inline references are written as their names, so the reply still reads as a sentence.
    assert "`config.rs`" in conv.turns[[t.role for t in conv.turns].index("assistant")].text


def test_copilot_chat_error_details_become_an_error(tmp_path: Path) -> None:
    from llm_session_manager.core.sources.copilot_chat_conversation import conversation_of

    document = json.loads(COPILOT_CHAT.read_text())
    document["requests"][-1]["result"]["errorDetails"] = {"message": "rate limited"}
    conv = conversation_of(document)
    assert conv.turns[-1].role == "error" and conv.turns[-1].text == "rate limited"


# -- Cursor -------------------------------------------------------------------------------------


def place_cursor_db(user: Path) -> None:
    workspace = user / "workspaceStorage" / "a1b2c3"
    workspace.mkdir(parents=True)
    shutil.copy(CURSOR_DB, workspace / "state.vscdb")
    (workspace / "workspace.json").write_text(json.dumps({"folder": "file:///home/dev/src/cur"}))


def test_cursor_workspace_composers_and_chat_tabs_match_their_facts(tmp_path: Path) -> None:
    user = tmp_path / "Cursor" / "User"
    place_cursor_db(user)
    source = CursorSource([user])
    sessions = facts_of(source)
    assert CURSOR_COMPOSER in sessions and CURSOR_TAB in sessions
    for facts in sessions.values():
        conv = check_against_facts(source, facts)
        assert roles(conv)["assistant"] == facts.replies
    composer = source.conversation(sessions[CURSOR_COMPOSER])
    assert [t.role for t in composer.turns] == ["user", "assistant"] * 7
    assert sorted(p.name for p in (user / "workspaceStorage" / "a1b2c3").iterdir()) == [
        "state.vscdb", "workspace.json"]  # read-only: no journal left behind


def test_cursor_global_layout_in_header_order_with_tool_errors(tmp_path: Path) -> None:
    import sqlite3

    user = tmp_path / "User"
    db = user / "globalStorage" / "state.vscdb"
    db.parent.mkdir(parents=True)
    bubbles = {
        "u1": {"type": 1, "text": "review PR 10", "createdAt": "2025-12-25T19:35:01.000Z"},
        "a1": {"type": 2, "text": "", "toolFormerData": {
            "name": "run_terminal_cmd", "params": json.dumps({"command": "pytest"}),
            "result": "1 failed", "status": "error"}},
        "a2": {"type": 2, "text": "Two issues found.", "errorDetails": {"message": "cut off"}},
        "gone": {"type": 2, "text": "a rewound answer"},
    }
    doc = {"composerId": "c1", "name": "Review", "fullConversationHeadersOnly": [
        {"bubbleId": b, "type": bubbles[b]["type"]} for b in ("u1", "a1", "a2")]}
    conn = sqlite3.connect(db)
    for table in ("ItemTable", "cursorDiskKV"):
        conn.execute(f"CREATE TABLE {table} (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    rows = [("composerData:c1", json.dumps(doc))]
    rows += [(f"bubbleId:c1:{b}", json.dumps(v)) for b, v in bubbles.items()]
    conn.executemany("INSERT INTO cursorDiskKV VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    source = CursorSource([user])
    conv = check_against_facts(source, facts_of(source)["c1"])
    assert [(t.role, t.tool, t.is_error) for t in conv.turns] == [
        ("user", None, False), ("tool_call", "run_terminal_cmd", False),
        ("tool_result", "run_terminal_cmd", True), ("assistant", None, False),
        ("error", None, True)]  # fmt: skip
    assert conv.turns[1].tool_input == "pytest"


# -- opencode -----------------------------------------------------------------------------------


@pytest.fixture
def opencode(tmp_path: Path) -> tuple[OpencodeSource, dict[str, SessionFacts]]:
    data = tmp_path / "opencode"
    shutil.copytree(OPENCODE_DIR, data)
    source = OpencodeSource([data])
    return source, facts_of(source)


def test_opencode_messages_and_the_api_error(
    opencode: tuple[OpencodeSource, dict[str, SessionFacts]],
) -> None:
    source, sessions = opencode
    assert len(sessions) == 2
    for facts in sessions.values():
        conv = check_against_facts(source, facts)
        # A reply that failed is an error turn: it has no text.
        assert roles(conv)["assistant"] + roles(conv)["error"] == facts.replies
    conv = source.conversation(sessions[OPENCODE_DEMO])
    assert [t.role for t in conv.turns] == [
        "user", "assistant", "user", "assistant", "user", "error"]
    assert conv.turns[0].text == "Say hello"  # opencode's quotes around a `run` prompt dropped
    assert conv.turns[-1].text == "APIError: mock: deliberately rejected ([[apierror]])"


def test_opencode_tool_parts_with_output_and_error() -> None:
    from llm_session_manager.core.sources.opencode_conversation import message_turns

    parts = [
        {"type": "step-start"},
        {"type": "text", "text": "Reading it."},
        {"type": "tool", "tool": "read", "state": {
            "status": "completed", "input": {"filePath": "/src/a.py"}, "output": "print(1)"}},
        {"type": "tool", "tool": "bash", "state": {
            "status": "error", "input": {"command": "make"}, "error": "exit 2"}},
    ]
    turns = message_turns({"role": "assistant", "time": {"created": 1795564734934}}, parts)
    assert [(t.role, t.tool, t.is_error) for t in turns] == [
        ("assistant", None, False), ("tool_call", "read", False), ("tool_result", "read", False),
        ("tool_call", "bash", False), ("tool_result", "bash", True)]  # fmt: skip
    assert turns[1].paths == ("/src/a.py",) and turns[3].tool_input == "make"
    assert turns[4].text == "exit 2"
