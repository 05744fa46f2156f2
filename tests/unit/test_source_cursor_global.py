"""The Cursor source on the newer layout, built by hand with the key shapes formats.md §3.1
documents (no public file of this layout exists): conversations in the global `state.vscdb`
(`cursorDiskKV`: `composerData:<id>`, `bubbleId:<composer>:<bubble>`), each workspace's
`state.vscdb` listing its composers in `composer.composerData`. Also the live mapping from a
fake process table, and a database in WAL mode changed while the app polls.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources.cursor import CursorSource
from llm_session_manager.core.tokens import count_tokens

APP, OTHER = "/home/dev/src/app", "/home/dev/src/other"
FIXING, REVIEW, EMPTY, LOOSE = "c-fixing", "c-review", "c-empty", "c-loose"
T0 = 1_766_691_300_000  # ms


def _bubble(kind: int, text: str, **extra: Any) -> dict[str, Any]:
    return {"_v": 3, "type": kind, "text": text, **extra}


def _tokens(inp: int, out: int) -> dict[str, int]:
    return {"inputTokens": inp, "outputTokens": out}


# composer id -> (composer document, {bubble id: bubble}); headers list the live conversation.
COMPOSERS: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    FIXING: (
        {"name": "Fix the login", "status": "generating", "createdAt": T0,
         "lastUpdatedAt": T0 + 90_000, "modelConfig": {"modelName": "default"},
         "fullConversationHeadersOnly": [{"bubbleId": b, "type": t} for b, t in
                                         (("u1", 1), ("a1", 2), ("u2", 1), ("a2", 2))]},
        {"u1": _bubble(1, "fix the login bug", modelInfo={"modelName": "claude-4.5-sonnet"},
                       createdAt="2025-12-25T19:35:01.000Z"),
         "a1": _bubble(2, "The session cookie expired early.", tokenCount=_tokens(5000, 1200),
                       createdAt="2025-12-25T19:35:30.000Z"),
         "u2": _bubble(1, "and add a test", tokenCount=_tokens(0, 0)),
         "a2": _bubble(2, "Added test_login_expiry.", tokenCount=_tokens(0, 0),
                       thinking={"text": "need a test"})},
    ),
    REVIEW: (
        {"name": "Review PR 10", "status": "completed", "createdAt": T0 - 600_000,
         "lastUpdatedAt": T0 - 300_000, "contextTokensUsed": 42_000,
         "contextTokenLimit": 200_000, "modelConfig": {"modelName": "gpt-5"},
         "fullConversationHeadersOnly": [{"bubbleId": "u1", "type": 1},
                                         {"bubbleId": "a1", "type": 2, "serverBubbleId": "s"},
                                         {"bubbleId": "a2", "type": 2}]},
        {"u1": _bubble(1, "review PR 10"),
         "a1": _bubble(2, "", tokenCount=_tokens(3000, 150),
                       toolFormerData={"name": "run_terminal_cmd", "status": "error"}),
         "a2": _bubble(2, "Two issues found.", tokenCount=_tokens(3300, 400)),
         # Rewound away: still stored, no longer in the headers, so it must not count.
         "gone": _bubble(2, "an answer that was discarded", tokenCount=_tokens(9999, 9999))},
    ),
    EMPTY: ({"name": None, "createdAt": T0, "fullConversationHeadersOnly": []}, {}),
    LOOSE: (
        {"name": "Loose chat", "status": "error", "createdAt": T0 - 60_000,
         "lastUpdatedAt": T0 - 30_000,
         "fullConversationHeadersOnly": [{"bubbleId": "u1", "type": 1}]},
        {"u1": _bubble(1, "why does the build fail")},
    ),
}


def _db(path: Path, items: dict[str, Any], kv: dict[str, Any] | None = None,
        wal: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = wal")
    for table in ("ItemTable", "cursorDiskKV"):
        conn.execute(f"CREATE TABLE {table} (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    conn.executemany("INSERT INTO ItemTable VALUES (?, ?)",
                     [(k, json.dumps(v)) for k, v in items.items()])
    conn.executemany("INSERT INTO cursorDiskKV VALUES (?, ?)",
                     [(k, json.dumps(v).encode()) for k, v in (kv or {}).items()])
    conn.commit()
    conn.close()


def _composer_rows(cid: str) -> dict[str, Any]:
    doc, bubbles = COMPOSERS[cid]
    rows: dict[str, Any] = {f"composerData:{cid}": {"_v": 10, "composerId": cid, **doc}}
    rows.update({f"bubbleId:{cid}:{bid}": {**b, "bubbleId": bid} for bid, b in bubbles.items()})
    return rows


def _workspace(user: Path, name: str, folder: str, composer_ids: list[str]) -> None:
    heads = {"allComposers": [{"composerId": c, "createdAt": T0} for c in composer_ids],
             "selectedComposerId": composer_ids[0]}
    _db(user / "workspaceStorage" / name / "state.vscdb", {"composer.composerData": heads})
    (user / "workspaceStorage" / name / "workspace.json").write_text(
        json.dumps({"folder": f"file://{folder}"}))


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    user = tmp_path / "User"
    kv: dict[str, Any] = {}
    for cid in COMPOSERS:
        kv.update(_composer_rows(cid))
    headers = {"allComposers": [{"composerId": LOOSE,
                                 "workspaceIdentifier": {"uri": {"fsPath": OTHER}}}]}
    _db(user / "globalStorage" / "state.vscdb", {"composer.composerHeaders": headers}, kv,
        wal=True)
    _workspace(user, "ws-app", APP, [FIXING, REVIEW, EMPTY])
    return user


def _facts(user: Path) -> dict[str, SessionFacts]:
    source = CursorSource([user], count_tokens=count_tokens)
    result = source.read(source.watched())
    assert result.problems == () and result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def test_sessions_and_their_projects(user_dir: Path) -> None:
    facts = _facts(user_dir)
    assert set(facts) == {FIXING, REVIEW, LOOSE}  # the empty composer is no session
    assert (facts[FIXING].cwd, facts[REVIEW].cwd) == (APP, APP)
    assert facts[LOOSE].cwd == OTHER  # known only from the global heads list


def test_recorded_counts_are_exact_and_a_turn_without_counts_is_counted(user_dir: Path) -> None:
    facts = _facts(user_dir)
    review = facts[REVIEW]
    assert review.usage.source == "exact"
    assert (review.usage.input, review.usage.output) == (3000 + 3300, 150 + 400)
    assert (review.prompts, review.replies) == (1, 2)
    fixing = facts[FIXING]
    assert fixing.usage.source == "counted"
    assert fixing.usage.input == 5000 + count_tokens("and add a test")
    assert fixing.usage.output == 1200 + count_tokens("Added test_login_expiry.\nneed a test")
    assert (fixing.prompts, fixing.replies) == (2, 2)


def test_titles_models_times_and_errors(user_dir: Path) -> None:
    facts = _facts(user_dir)
    fixing, review, loose = facts[FIXING], facts[REVIEW], facts[LOOSE]
    assert (fixing.title, review.title) == ("Fix the login", "Review PR 10")
    # The user bubble's model wins over the composer's "default" (Cursor's Auto).
    assert fixing.model == "claude-4.5-sonnet"
    assert review.model == "gpt-5"
    assert fixing.started_at is not None and fixing.started_at.timestamp() * 1000 == T0
    assert fixing.last_activity_at is not None
    assert fixing.last_activity_at.timestamp() * 1000 == T0 + 90_000
    assert fixing.turn_hint == "working"  # status "generating"
    assert (review.errors.tool, review.errors.api) == (1, 0)
    assert (loose.errors.api, loose.errors.last_message) == (1, "conversation ended in an error")


def test_context_only_where_the_record_tells_it(user_dir: Path) -> None:
    facts = _facts(user_dir)
    assert (facts[REVIEW].context.tokens, facts[REVIEW].context.window) == (42_000, 200_000)
    assert facts[REVIEW].context.window_source == "record"
    # The latest turn recorded no counts: how full the window is cannot be known.
    assert facts[FIXING].context.tokens is None


def _proc(pid: int, exe: str, *args: str, cwd: str | None = None, ppid: int = 1) -> ProcessInfo:
    return ProcessInfo(pid, exe.rsplit("/", 1)[-1], exe, (exe, *args), 0.0, ppid, cwd=cwd)


def test_live_maps_each_open_folder_to_its_most_recent_chat(user_dir: Path) -> None:
    source = CursorSource([user_dir], count_tokens=count_tokens)
    facts = {f.key.session_id: f for f in source.read(source.watched()).facts}
    table = ProcessTable.from_infos([
        _proc(100, "/opt/cursor/cursor", "--no-sandbox", APP, cwd="/home/dev"),
        _proc(101, "/opt/cursor/cursor", "--type=renderer", APP, ppid=100),
        _proc(200, "/Applications/Cursor.app/Contents/MacOS/Cursor", cwd=OTHER),
        _proc(300, "/usr/bin/cursor-agent", APP, cwd=APP),  # the CLI agent: not the IDE
    ])
    live = source.live(table, facts)
    assert set(live) == {FIXING, LOOSE}  # REVIEW is older than FIXING in the same folder
    assert (live[FIXING].state, live[FIXING].pids, live[FIXING].mapping) == (
        "active", (100,), "cwd")
    assert (live[LOOSE].state, live[LOOSE].pids) == ("idle", (200,))
    assert source.live(ProcessTable(), facts) == {}


def test_wal_commits_are_seen_and_no_file_is_added(user_dir: Path) -> None:
    glob = user_dir / "globalStorage" / "state.vscdb"
    poller = Poller([CursorSource([user_dir], count_tokens=count_tokens)], None, Config(),
                    scan_processes=ProcessTable)
    keys = {s.key.session_id for s in poller.poll_once().sessions}
    assert keys == {FIXING, REVIEW, LOOSE}
    # Cursor is not running: reading must not leave -wal or -shm files in its folder.
    assert sorted(p.name for p in glob.parent.iterdir()) == ["state.vscdb"]

    writer = sqlite3.connect(glob)  # Cursor running: commits stay in the -wal until a checkpoint
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        doc = COMPOSERS[REVIEW][0]
        renamed = {**doc, "name": "Review PR 10 again", "lastUpdatedAt": T0 + 200_000}
        writer.execute("INSERT INTO cursorDiskKV VALUES (?, ?)",
                       (f"composerData:{REVIEW}",
                        json.dumps({"composerId": REVIEW, **renamed}).encode()))
        writer.commit()
        assert (glob.parent / "state.vscdb-wal").exists()
        sessions = {s.key: s for s in poller.poll_once().sessions}
        assert sessions[SessionKey("cursor", REVIEW)].facts.title == "Review PR 10 again"
        assert sessions[SessionKey("cursor", REVIEW)].facts.cwd == APP
    finally:
        writer.close()
