"""The cursor-agent CLI's chat stores (`~/.cursor/chats/<md5(workspace)>/<id>/store.db`) read by the
Cursor source: facts, context from the root blob, reading only new blobs, one session per id beside
the agent transcript, the conversation, the live mapping and bad stores.

No public sample store exists; `tests/cursor_chat_store.py` builds them on the shapes formats.md
§3.3 and public readers give. Expected token counts use the same offline tokenizer.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cursor_chat_store import (
    breakdown,
    call,
    field_bytes,
    field_varint,
    reply,
    result,
    user,
    write_store,
)
from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources import cursor_chats
from llm_session_manager.core.sources.cursor import CursorSource
from llm_session_manager.core.sources.cursor_chat_blobs import context_snapshot
from llm_session_manager.core.tokens import count_tokens

APP = "/home/dev/src/app"
PROMPT = "fix the login bug"
ASKED = f"<user_info>OS: linux</user_info>\n<user_query>\n{PROMPT}\n</user_query>"
ARGS = {"path": f"{APP}/login.py"}
OUTPUT = "def login(): ..."
DONE = "Fixed: the cookie expired early."
MTIME = datetime(2026, 7, 17, 9, 0, tzinfo=UTC)
TURN = [user(ASKED), call("read_file", ARGS, "t1"), result("read_file", "t1", OUTPUT),
        reply(DONE)]  # fmt: skip


@pytest.fixture
def chats(tmp_path: Path) -> Path:
    return tmp_path / ".cursor" / "chats"


def _source(tmp_path: Path, chats: Path) -> CursorSource:
    return CursorSource([], count_tokens=count_tokens,
                        transcript_roots=[tmp_path / ".cursor" / "projects"], chat_roots=[chats])


def _facts(source: CursorSource) -> dict[str, SessionFacts]:
    read = source.read(source.watched())
    assert read.problems == () and read.retry == ()
    return {f.key.session_id: f for f in read.facts}


def test_a_store_gives_the_session_its_name_model_workspace_times_tokens_and_context(
    tmp_path: Path, chats: Path
) -> None:
    write_store(chats, "s-1", APP, TURN, mtime=MTIME,
                meta_json={"title": "Login cookie fix", "updatedAtMs": 1_784_300_000_000})
    facts = _facts(_source(tmp_path, chats))["s-1"]
    assert facts.key == SessionKey("cursor", "s-1")
    assert (facts.title, facts.first_prompt) == ("Login cookie fix", PROMPT)
    assert (facts.cwd, facts.model) == (APP, "claude-4.5-sonnet")
    assert facts.started_at == datetime.fromtimestamp(1_781_256_145.540, UTC)
    assert facts.last_activity_at == datetime.fromtimestamp(1_784_300_000, UTC)  # > the mtime
    # Counted offline: what the user sent and the tool returned is input; the reply, its
    # reasoning and the call's arguments are output. Cursor's system prompt is not counted.
    assert facts.usage.source == "counted"
    assert facts.usage.input == count_tokens(ASKED) + count_tokens(OUTPUT)
    assert facts.usage.output == (count_tokens("Let me look.") + count_tokens(json.dumps(
        ARGS, separators=(",", ":"))) + count_tokens(DONE))
    # What the root says the context holds now: the parts' sum, in the recorded window.
    assert (facts.context.tokens, facts.context.window, facts.context.window_source) == (
        480 + 11592 + 6621, 200_000, "record")
    assert (facts.prompts, facts.replies, facts.errors.tool) == (1, 2, 0)
    assert (facts.turn_hint, facts.pending_tool) == ("turn_done", None)
    assert facts.files_touched == (f"{APP}/login.py",)
    assert facts.paths == (str(chats / cursor_chats_hash(APP) / "s-1" / "store.db"),)


def cursor_chats_hash(workspace: str) -> str:
    import hashlib

    return hashlib.md5(workspace.encode()).hexdigest()


def test_title_model_workspace_and_start_fall_back_where_the_metadata_is_silent(
    tmp_path: Path, chats: Path
) -> None:
    # A placeholder name, no model, no workspace path, the creation time as digits.
    write_store(chats, "s-2", APP, [user(ASKED), call("Shell", {"command": "pytest"}, "t9")],
                meta={"name": "New Agent", "lastUsedModel": None, "workspacePath": None,
                      "createdAt": "1781256145540"}, context=None)  # fmt: skip
    facts = _facts(_source(tmp_path, chats))["s-2"]
    assert facts.title == PROMPT  # the typed words, not the attached context
    assert facts.model is None  # the reply part names none either
    assert facts.cwd == APP  # from the root's workspace URI
    assert facts.started_at == datetime.fromtimestamp(1_781_256_145.540, UTC)
    assert facts.context.tokens is None  # no snapshot: the fill is not known, never guessed
    assert (facts.turn_hint, facts.pending_tool) == ("tool_running", "Shell")

    write_store(chats, "s-3", APP, [user(ASKED), reply("ok", model="gpt-5")],
                meta={"name": "Named by the user", "lastUsedModel": None})
    facts = _facts(_source(tmp_path, chats))["s-3"]
    assert (facts.title, facts.model) == ("Named by the user", "gpt-5")


def test_attached_context_alone_is_no_prompt_and_a_failed_tool_is_an_error(
    tmp_path: Path, chats: Path
) -> None:
    write_store(chats, "s-4", APP, [
        {"role": "user", "content": "<user_info>OS: linux</user_info>\n<rules>be brief</rules>"},
        user(ASKED), call("read_file", ARGS, "t1"),
        result("read_file", "t1", [{"type": "text", "text": "ENOENT"}], error=True),
    ])
    facts = _facts(_source(tmp_path, chats))["s-4"]
    assert (facts.prompts, facts.first_prompt) == (1, PROMPT)
    assert (facts.errors.tool, facts.errors.last_message) == (1, "read_file: ENOENT")
    assert facts.turn_hint == "working"  # the tool answered: the model has the turn again


def test_the_context_snapshot_is_believed_only_where_its_parts_add_up() -> None:
    parts = (("system_prompt", 480), ("tools", 11592), ("conversation", 6621))
    good = context_snapshot(field_bytes(5, breakdown(parts, 200_000)))
    assert good is not None and (good.tokens, good.window) == (18693, 200_000)
    # The stated total disagrees with its parts: a changed format, not a number to show.
    wrong = field_varint(1, 99) + breakdown(parts, 200_000)[len(field_varint(1, 18693)):]
    assert context_snapshot(field_bytes(5, wrong)) is None
    # One entry alone proves nothing (a two-string message is common).
    assert context_snapshot(field_bytes(5, breakdown(parts[:1], 200_000))) is None
    assert context_snapshot(b"\xff\xff\xff") is None  # not protobuf at all


def test_a_new_turn_reads_only_the_new_blobs_and_the_store_is_never_written(
    tmp_path: Path, chats: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = write_store(chats, "s-5", APP, TURN, mtime=MTIME)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.folder.iterdir()}
    loaded: list[str] = []
    real = cursor_chats._blob
    monkeypatch.setattr(cursor_chats, "_blob", lambda conn, i: loaded.append(i) or real(conn, i))
    source = _source(tmp_path, chats)
    assert _facts(source)["s-5"].prompts == 1
    first = len(loaded)
    assert first == 1 + 1 + 5  # the root (read once), its link blob, 5 messages
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.folder.iterdir()} == (
        before)  # read-only: no byte, no mtime, no -wal or -shm left behind

    loaded.clear()
    write_store(chats, "s-5", APP, [*TURN, user("and the logout"), reply("Done too.")])
    facts = _facts(source)["s-5"]
    assert (facts.prompts, facts.replies) == (2, 3)
    # The new root, the new link blob and the two new messages; the old ones are kept.
    assert len(loaded) == 1 + 1 + 2


def test_the_store_wins_over_the_transcript_of_the_same_session(
    tmp_path: Path, chats: Path
) -> None:
    transcript = (tmp_path / ".cursor" / "projects" / "home-dev-src-app" / "agent-transcripts"
                  / "s-6.jsonl")
    transcript.parent.mkdir(parents=True)
    transcript.write_text(json.dumps({"role": "user", "message": {"content": [
        {"type": "text", "text": "<user_query>from the transcript</user_query>"}]}}) + "\n")
    write_store(chats, "s-6", APP, TURN, meta={"name": "From the store"})
    source = _source(tmp_path, chats)
    facts = _facts(source)
    assert list(facts) == ["s-6"] and facts["s-6"].title == "From the store"

    # A later process that finds only the transcript changed still leaves it to the store.
    later = _source(tmp_path, chats)
    later.watched()
    assert later.read([str(transcript)]).facts == ()

    # A store with no message yet holds nothing: the transcript is the session meanwhile.
    write_store(chats, "s-7", APP, [])
    twin = transcript.with_name("s-7.jsonl")
    twin.write_text(transcript.read_text())
    fresh = _source(tmp_path, chats)
    assert _facts(fresh)["s-7"].title == "from the transcript"


def test_bad_stores_are_reported_and_the_others_still_read(tmp_path: Path, chats: Path) -> None:
    write_store(chats, "good", APP, TURN)
    bad_meta = write_store(chats, "bad-meta", APP, TURN)
    conn = sqlite3.connect(bad_meta.db)
    conn.execute("UPDATE meta SET value = 'zz-not-hex'")
    conn.commit()
    conn.close()
    other = chats / ("0" * 32) / "not-a-store"
    other.mkdir(parents=True)
    sqlite3.connect(other / "store.db").execute("CREATE TABLE t (x)").connection.close()
    garbage = chats / ("1" * 32) / "garbage"
    garbage.mkdir(parents=True)
    (garbage / "store.db").write_bytes(b"not a database at all" * 100)

    source = _source(tmp_path, chats)
    read = source.read(source.watched())
    assert [f.key.session_id for f in read.facts] == ["good"]
    where = {Path(p.where).parent.name: p.message for p in read.problems}
    assert where["bad-meta"] == "chat metadata is not readable JSON"
    assert "no meta/blobs table" in where["not-a-store"]
    assert where["garbage"].startswith("cannot read cursor-agent chat")


def test_a_store_the_cli_holds_locked_is_read_again_next_poll(
    tmp_path: Path, chats: Path
) -> None:
    store = write_store(chats, "s-8", APP, TURN)
    poller = Poller([_source(tmp_path, chats)], None, Config(), scan_processes=ProcessTable)
    holder = sqlite3.connect(store.db, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("COMMIT")  # the exclusive lock stays until the connection closes
        assert [s.key.session_id for s in poller.poll_once().sessions] == []
    finally:
        holder.close()
    assert [s.key.session_id for s in poller.poll_once().sessions] == ["s-8"]


def test_the_conversation_of_a_store(tmp_path: Path, chats: Path) -> None:
    write_store(chats, "s-9", APP, [
        {"role": "user", "content": "<user_info>OS: linux</user_info>"}, *TURN[:2],
        result("read_file", "t1", [{"type": "text", "text": "ENOENT"}], error=True), TURN[3]])
    source = _source(tmp_path, chats)
    facts = _facts(source)["s-9"]
    turns = [(t.role, t.text, t.tool, t.tool_input, t.is_error)
             for t in source.conversation(facts).turns]
    assert turns == [
        ("user", PROMPT, None, None, False),
        ("tool_call", "", "read_file", f"{APP}/login.py", False),
        ("tool_result", "ENOENT", "read_file", None, True),
        ("assistant", DONE, None, None, False),
    ]
    os.remove(facts.paths[0])
    gone = source.conversation(facts)
    assert gone.turns == () and gone.unavailable is not None


def test_a_running_cursor_agent_is_its_workspaces_newest_store_session(
    tmp_path: Path, chats: Path
) -> None:
    write_store(chats, "older", APP, TURN, mtime=MTIME)
    write_store(chats, "newer", APP, [*TURN[:2]], mtime=datetime(2026, 7, 18, tzinfo=UTC))
    write_store(chats, "other", "/home/dev/src/other", TURN)
    source = _source(tmp_path, chats)
    facts = _facts(source)
    bundle = "/home/dev/.local/share/cursor-agent/versions/2026.01.28-fd13201"
    agent = ProcessInfo(10, "node", f"{bundle}/node", (f"{bundle}/node", f"{bundle}/index.js"),
                        0.0, 1, cwd=APP)  # fmt: skip
    live = source.live(ProcessTable.from_infos([agent]), facts)
    assert set(live) == {"newer"}
    assert (live["newer"].state, live["newer"].pids, live["newer"].mapping) == (
        "active", (10,), "cwd")  # its last message calls a tool
    # Without a workspace path, the store's folder (the workspace's MD5) still names it.
    unnamed = {k: replace(v, cwd=None) for k, v in facts.items()}
    assert set(source.live(ProcessTable.from_infos([agent]), unnamed)) == {"newer"}


def test_the_chats_root_per_os(tmp_path: Path) -> None:
    from llm_session_manager.core.sources.cursor_chats import default_chat_roots

    assert default_chat_roots({}, tmp_path, "linux") == [tmp_path / ".cursor" / "chats"]
    assert default_chat_roots({}, tmp_path, "darwin") == [tmp_path / ".cursor" / "chats"]
    profile = tmp_path / "Users" / "dev"
    assert default_chat_roots({"USERPROFILE": str(profile)}, tmp_path, "win32") == [
        profile / ".cursor" / "chats"]
    assert default_chat_roots({}, tmp_path, "win32") == [tmp_path / ".cursor" / "chats"]


def test_a_prompt_sent_twice_is_one_blob_and_counts_twice(tmp_path: Path, chats: Path) -> None:
    again = user("<user_query>continue</user_query>")
    write_store(chats, "s-10", APP, [user(ASKED), reply("Part one."), again, reply("Part two."),
                                     again, reply(DONE)])  # fmt: skip
    facts = _facts(_source(tmp_path, chats))["s-10"]
    assert (facts.prompts, facts.replies) == (3, 3)
    assert facts.usage.input == count_tokens(ASKED) + 2 * count_tokens(
        "<user_query>continue</user_query>")


def test_tags_the_user_typed_stay_in_the_prompt(tmp_path: Path, chats: Path) -> None:
    typed = "why does <Login>x</Login> render twice?"
    write_store(chats, "s-11", APP, [user(typed), reply(DONE)])
    assert _facts(_source(tmp_path, chats))["s-11"].first_prompt == typed

