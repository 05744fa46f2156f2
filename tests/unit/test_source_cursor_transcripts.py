"""Cursor's agent transcripts (`~/.cursor/projects/<slug>/agent-transcripts/`) read by the Cursor
source: discovery of the three layouts, facts, incremental reads, and one session per composer
when the IDE's database holds the same conversation.

No public sample of these files exists: the fixtures are built here on the shapes formats.md §3.2
gives (`{role, message: {content: [text | tool_use]}}` lines, `{type: "turn_ended", status}`, a
leading `<timestamp>` tag) plus the `<user_query>` wrapper and `tool_result` blocks agentsview
reads. Expected token counts are computed with the same offline tokenizer.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.config import AgentConfig, Config
from llm_session_manager.core.models import SessionFacts, SessionKey, Snapshot
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import SnapshotRead
from llm_session_manager.core.sources.cursor import CursorSource, create
from llm_session_manager.core.sources.cursor_transcripts import default_transcript_roots
from llm_session_manager.core.tokens import count_tokens

FLAT, NESTED, TEXT, SHARED = "c-flat", "c-nested", "c-text", "c-shared"
PROMPT = "fix the login bug"
FIRST = (f"<timestamp>Friday, Jul 17, 2026, 12:26 AM (UTC+9)</timestamp>\n<user_query>\n{PROMPT}\n"
         "</user_query>")
REPLY, TOOL_ARGS, RESULT, DONE = ("Looking at the handler.", {"target_file": "src/login.py"},
                                  "def login(): ...", "Fixed: the cookie expired early.")
MTIME = datetime(2026, 7, 17, 9, 0, tzinfo=UTC)


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"


def user(text: str) -> bytes:
    return _line({"role": "user", "message": {"content": [{"type": "text", "text": text}]}})


def assistant(*blocks: dict[str, Any]) -> bytes:
    return _line({"role": "assistant", "message": {"content": list(blocks)}})


TURN = b"".join([
    user(FIRST),
    assistant({"type": "text", "text": REPLY},
              {"type": "tool_use", "name": "read_file", "input": TOOL_ARGS}),
    _line({"role": "user", "message": {"content": [{"type": "tool_result", "content": RESULT}]}}),
    assistant({"type": "text", "text": DONE}),
    _line({"type": "turn_ended", "status": "success"}),
])
SUB = user("list the tests") + assistant({"type": "text", "text": "three tests"})


def write(path: Path, data: bytes, mtime: datetime = MTIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    """One workspace's transcripts in each layout; a stale `.txt` beside a nested `.jsonl`."""
    root = tmp_path / "projects"
    transcripts = root / "home-dev-src-app" / "agent-transcripts"
    write(transcripts / f"{FLAT}.jsonl", user("hello") + assistant({"type": "text", "text": "hi"}))
    write(transcripts / NESTED / f"{NESTED}.jsonl", TURN)
    write(transcripts / f"{NESTED}.txt", b"user:\nan older copy\n")
    write(transcripts / NESTED / "subagents" / "s-1.jsonl", SUB,
          datetime(2026, 7, 17, 9, 30, tzinfo=UTC))
    write(transcripts / f"{TEXT}.txt", b"user:\nrename the module\nassistant:\ndone\n")
    return root


def _read(source: CursorSource) -> dict[str, SessionFacts]:
    result = source.read(source.watched())
    assert result.problems == () and result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def _facts_of(snapshot: Snapshot, key: SessionKey) -> SessionFacts:
    return next(s.facts for s in snapshot.sessions if s.key == key)


def _source(projects: Path, user_dirs: list[Path] | None = None) -> CursorSource:
    return CursorSource(user_dirs or [], count_tokens=count_tokens, transcript_roots=[projects])


def test_each_layout_is_one_session_and_subagents_count_toward_their_parent(
    projects: Path,
) -> None:
    facts = _read(_source(projects))
    assert set(facts) == {FLAT, NESTED, TEXT}
    nested = projects / "home-dev-src-app" / "agent-transcripts" / NESTED
    # The nested .jsonl, not the stale flat .txt; the subagent's file is the session's too.
    assert facts[NESTED].paths == (str(nested / f"{NESTED}.jsonl"),
                                   str(nested / "subagents" / "s-1.jsonl"))
    assert {f.key.agent for f in facts.values()} == {"cursor"}


def test_title_times_counted_tokens_and_turn_state(projects: Path) -> None:
    facts = _read(_source(projects))[NESTED]
    assert facts.title == facts.first_prompt == PROMPT  # no timestamp tag, no wrapper
    assert facts.started_at == datetime(2026, 7, 16, 15, 26, tzinfo=UTC)  # the tag, UTC+9
    assert facts.last_activity_at == datetime(2026, 7, 17, 9, 30, tzinfo=UTC)  # newest mtime
    assert (facts.prompts, facts.replies) == (1, 2)  # a message of tool results is no prompt
    assert facts.usage.source == "counted" and facts.usage.total > 0
    assert facts.usage.input == sum(map(count_tokens, (FIRST, RESULT, "list the tests")))
    # A tool call's arguments are the model's output too, as the compact JSON it wrote.
    assert facts.usage.output == sum(map(count_tokens, (REPLY, orjson.dumps(TOOL_ARGS).decode(),
                                                        DONE, "three tests")))
    assert facts.model is None and facts.by_model == () and facts.context.tokens is None
    assert facts.files_touched == ("src/login.py",)
    assert facts.turn_hint == "turn_done"
    assert facts.errors.total == 0


def test_a_failed_turn_is_an_error_and_an_open_turn_is_working(projects: Path) -> None:
    path = projects / "home-dev-src-app" / "agent-transcripts" / NESTED / f"{NESTED}.jsonl"
    source = _source(projects)
    _read(source)
    with path.open("ab") as handle:
        handle.write(user("and add a test") + _line({"type": "turn_ended", "status": "error"}))
    failed = source.read([str(path)]).facts[0]
    assert (failed.errors.api, failed.errors.last_message) == (1, "turn error")
    with path.open("ab") as handle:
        handle.write(user("try again"))
    assert source.read([str(path)]).facts[0].turn_hint == "working"


def test_appended_lines_are_read_incrementally_and_a_half_line_waits(projects: Path) -> None:
    path = projects / "home-dev-src-app" / "agent-transcripts" / NESTED / f"{NESTED}.jsonl"
    poller = Poller([_source(projects)], None, Config(), scan_processes=ProcessTable)
    key = SessionKey("cursor", NESTED)
    assert _facts_of(poller.poll_once(), key).prompts == 1
    idle = poller.poll_once()
    assert (idle.files_read, idle.bytes_read) == (0, 0)  # unchanged: a stat, no read

    line = user("and add a test")
    with path.open("ab") as handle:
        handle.write(line[:10])  # the agent is still writing it
    partial = _facts_of(poller.poll_once(), key)
    assert (partial.prompts, partial.turn_hint) == (1, "turn_done")
    with path.open("ab") as handle:
        handle.write(line[10:])
    done = poller.poll_once()
    assert done.bytes_read == len(line)  # from the half line's start: nothing read twice more
    facts = _facts_of(done, key)
    assert (facts.prompts, facts.turn_hint) == (2, "working")
    assert facts.usage.input == sum(map(count_tokens, (FIRST, RESULT, "list the tests",
                                                       "and add a test")))


# -- the IDE's database holds the same composer ----------------------------------------------


def _global_db(user_dir: Path, cid: str) -> Path:
    path = user_dir / "globalStorage" / "state.vscdb"
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    for table in ("ItemTable", "cursorDiskKV"):
        conn.execute(f"CREATE TABLE {table} (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    doc = {"_v": 10, "composerId": cid, "name": "Login fix (IDE)", "createdAt": 1_784_000_000_000,
           "modelConfig": {"modelName": "gpt-5"},
           "fullConversationHeadersOnly": [{"bubbleId": "u1", "type": 1}]}
    rows = [(f"composerData:{cid}", json.dumps(doc)),
            (f"bubbleId:{cid}:u1", json.dumps({"_v": 3, "type": 1, "text": PROMPT}))]
    conn.executemany("INSERT INTO cursorDiskKV VALUES (?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def test_a_composer_the_ide_database_holds_is_one_session_from_the_database(
    projects: Path, tmp_path: Path,
) -> None:
    user_dir = tmp_path / "User"
    db = _global_db(user_dir, NESTED)
    source = _source(projects, [user_dir])
    read = source.read(source.watched())
    assert [f.key.session_id for f in read.facts].count(NESTED) == 1
    facts = {f.key.session_id: f for f in read.facts}
    assert facts[NESTED].title == "Login fix (IDE)" and facts[NESTED].model == "gpt-5"
    assert facts[NESTED].paths == (str(db),)
    assert facts[FLAT].paths[0].endswith(f"{FLAT}.jsonl")  # the others still from transcripts

    # The IDE appends to its transcript too: that neither reads it nor replaces the record.
    path = projects / "home-dev-src-app" / "agent-transcripts" / NESTED / f"{NESTED}.jsonl"
    with path.open("ab") as handle:
        handle.write(user("and add a test"))
    source.watched()
    assert source.read([str(path)]) == SnapshotRead()

    # A restart that finds the database unchanged reads only the changed transcript: the
    # database is asked about that composer alone, and the transcript still gives no session.
    restarted = _source(projects, [user_dir])
    restarted.watched()
    assert restarted.read([str(path)]) == SnapshotRead()


def test_a_composer_the_database_holds_without_messages_is_read_from_its_transcript(
    projects: Path, tmp_path: Path,
) -> None:
    user_dir = tmp_path / "User"
    db = _global_db(user_dir, SHARED)  # a composer document listing no live message
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cursorDiskKV SET value = ? WHERE key = ?",
                 (json.dumps({"composerId": SHARED, "fullConversationHeadersOnly": []}),
                  f"composerData:{SHARED}"))
    conn.commit()
    conn.close()
    write(projects / "home-dev-src-app" / "agent-transcripts" / f"{SHARED}.jsonl", TURN)
    assert _read(_source(projects, [user_dir]))[SHARED].title == PROMPT


# -- roots ------------------------------------------------------------------------------------


def test_roots_per_os_and_from_the_config(tmp_path: Path) -> None:
    assert default_transcript_roots({}, tmp_path, "linux") == [tmp_path / ".cursor/projects"]
    assert default_transcript_roots({}, tmp_path, "darwin") == [tmp_path / ".cursor/projects"]
    profile = str(tmp_path / "Users" / "dev")
    assert default_transcript_roots({"USERPROFILE": profile}, tmp_path, "win32") == [
        Path(profile) / ".cursor" / "projects"]

    defaults = create(AgentConfig(), {}, tmp_path)
    assert tmp_path / ".cursor" / "projects" in defaults.roots()  # shown by `info`
    moved = create(AgentConfig(roots=(str(tmp_path / "ide" / "User"),)), {}, tmp_path)
    assert moved.roots() == [tmp_path / "ide" / "User", tmp_path / ".cursor" / "projects",
                             tmp_path / ".cursor" / "chats"]
    both = create(AgentConfig(roots=(str(tmp_path / "ide" / "User"), "~/elsewhere/.cursor")),
                  {}, tmp_path)
    assert both.roots() == [tmp_path / "ide" / "User", tmp_path / "elsewhere/.cursor/projects",
                            tmp_path / "elsewhere/.cursor/chats"]
    chats_only = create(AgentConfig(roots=("~/other/chats",)), {}, tmp_path)
    assert chats_only.roots()[-2:] == [tmp_path / ".cursor" / "projects",
                                       tmp_path / "other" / "chats"]
