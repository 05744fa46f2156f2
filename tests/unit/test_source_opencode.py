"""opencode's database as the real opencode 1.18.33 wrote it (real-clients/opencode-home).

Token figures are checked against what the mock server billed (mock-billed.jsonl), not against
numbers copied from the database. Changes to the database (new messages, a child session, a
lock) are made to a copy in tmp_path, by the test acting as opencode would.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from llm_session_manager.config import AgentConfig, Config
from llm_session_manager.core.models import SessionFacts
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.opencode import OpencodeSource, create

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "opencode-home"
DEMO = "ses_df0008101ffeU7dtBTqnuNRDhR"  # three runs in /home/dev/src/demo, the last one failed
OTHER = "ses_df0003d7affewYGGRNysiMPFUB"  # one run in /home/dev/src/other


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "share" / "opencode"
    shutil.copytree(SAMPLE / ".local" / "share" / "opencode", target)
    return target


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / "opencode.db"


def read_all(source: OpencodeSource) -> dict[str, SessionFacts]:
    result = source.read(source.watched())
    assert result.problems == ()
    assert result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def billed() -> list[dict[str, int]]:
    """The mock's usage of every request that a session's messages should account for: the
    title requests (sent without tools) are billed but recorded in no message."""
    lines = (SAMPLE / "mock-billed.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    return [r["usage"] for r in records if r["tools"] and r.get("usage")]


def test_real_database_tokens_equal_what_the_mock_billed(data_dir: Path) -> None:
    facts = read_all(OpencodeSource([data_dir]))
    assert set(facts) == {DEMO, OTHER}
    usage = facts[DEMO].usage + facts[OTHER].usage
    bills = billed()
    prompt = sum(b["prompt_tokens"] for b in bills)
    cached = sum(b["prompt_tokens_details"]["cached_tokens"] for b in bills)
    assert usage.cache_read == cached > 0
    assert usage.input == prompt - cached  # uncached input
    assert usage.output == sum(b["completion_tokens"] for b in bills)  # reasoning included
    assert usage.reasoning == sum(b["completion_tokens_details"]["reasoning_tokens"] for b in bills)
    assert usage.cache_creation == 0
    assert usage.source == "exact"


def test_real_database_session_fields(data_dir: Path) -> None:
    demo = read_all(OpencodeSource([data_dir]))[DEMO]
    assert demo.cwd == "/home/dev/src/demo"
    assert demo.title == "Mock title"  # opencode's own (mock-generated) title
    assert demo.first_prompt == "Say hello"  # stored as "\"Say hello\"" by `opencode run`
    assert demo.model == "mock-model"
    assert [m.model for m in demo.by_model] == ["mock-model"]
    assert (demo.prompts, demo.replies) == (3, 3)
    assert demo.errors.api == 1 and demo.errors.tool == 0
    assert "deliberately rejected" in (demo.errors.last_message or "")
    assert len(demo.errors.recent) == 1
    # The context is the newest request that reached the model (the failed one has no tokens):
    # its whole prompt, cached or not.
    assert demo.context.tokens == 3976
    assert demo.turn_hint == "turn_done"
    assert demo.started_at is not None and demo.last_activity_at is not None
    assert demo.started_at < demo.last_activity_at


def test_recorded_cost_is_kept_beside_the_estimate(data_dir: Path) -> None:
    source = OpencodeSource([data_dir])
    read_all(source)
    # The sample's provider prices (1 / 4 / 0.1 per million), applied by opencode per message.
    bills = billed()
    expected_demo = sum(
        ((b["prompt_tokens"] - b["prompt_tokens_details"]["cached_tokens"]) * 1.0
         + b["completion_tokens"] * 4.0
         + b["prompt_tokens_details"]["cached_tokens"] * 0.1) / 1e6
        for b in bills[:2]
    )
    assert source.recorded_cost(DEMO) == pytest.approx(expected_demo)
    assert source.recorded_cost("ses_unknown") is None


def test_reading_never_writes(data_dir: Path, db_path: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in data_dir.iterdir()
              if p.is_file()}
    read_all(OpencodeSource([data_dir]))
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in data_dir.iterdir()
             if p.is_file()}
    assert after == before  # same files, same bytes: no journal, no WAL, no change


def test_unchanged_database_rereads_nothing_and_a_new_message_rereads_one_session(
    db_path: Path, data_dir: Path
) -> None:
    source = OpencodeSource([data_dir])
    read_all(source)
    assert source.read([str(db_path)]).facts == ()  # signatures unchanged: nothing parsed
    add_assistant_message(db_path, OTHER, "msg_zz_new", tokens=(100, 7, 3, 50, 10))
    facts = read_all(source)
    assert set(facts) == {OTHER}
    other = facts[OTHER]
    assert other.usage.input == 3945 + 100
    assert other.usage.output == 20 + 10  # output 7 + reasoning 3
    assert other.usage.cache_read == 50 and other.usage.cache_creation == 10
    assert other.context.tokens == 100 + 50 + 10


def test_open_turn_is_a_working_hint(db_path: Path, data_dir: Path) -> None:
    add_assistant_message(db_path, OTHER, "msg_zz_open", tokens=(10, 1, 0, 0, 0), completed=False)
    assert read_all(OpencodeSource([data_dir]))[OTHER].turn_hint == "working"


def test_child_session_counts_for_its_parent(db_path: Path, data_dir: Path) -> None:
    with writer(db_path) as db:
        db.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
            " time_created, time_updated) VALUES (?, 'global', ?, 'child', '/home/dev/src/other',"
            " 'Child session - x', '1.18.33', 1795564752000, 1795564753000)",
            ("ses_child", OTHER),
        )
    add_assistant_message(db_path, "ses_child", "msg_zz_child", tokens=(500, 5, 0, 0, 0))
    add_tool_error(db_path, "ses_child", "msg_zz_child")
    facts = read_all(OpencodeSource([data_dir]))
    assert "ses_child" not in facts
    other = facts[OTHER]
    assert other.usage.input == 3945 + 500
    assert other.errors.tool == 1
    assert other.context.tokens == 3945  # the child's prompt is not the parent's window
    assert other.replies == 1


def test_busy_database_is_retried_by_the_poller(db_path: Path, data_dir: Path) -> None:
    source = OpencodeSource([data_dir])
    poller = Poller([source], None, Config(), scan_processes=ProcessTable)
    lock = sqlite3.connect(db_path, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")  # what opencode's writer may hold for a moment
        result = source.read([str(db_path)])
        assert result.retry == (str(db_path),) and result.facts == ()
        assert poller.poll_once().sessions == ()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    # The file did not change, yet the next poll reads it: its stat was not taken as read.
    ids = {s.key.session_id for s in poller.poll_once().sessions}
    assert ids == {DEMO, OTHER}


def test_wal_file_is_watched_and_its_rows_are_read(db_path: Path, data_dir: Path) -> None:
    keep = sqlite3.connect(db_path, isolation_level=None)
    try:
        keep.execute("PRAGMA journal_mode=WAL")
        keep.execute("PRAGMA wal_autocheckpoint=0")  # rows stay in -wal, as while opencode runs
        source = OpencodeSource([data_dir])
        read_all(source)
        # Written through the open connection: in one process, closing a second connection
        # would checkpoint and remove the -wal file, which opencode's own writer never does.
        add_assistant_message(db_path, DEMO, "msg_zz_wal", tokens=(1, 1, 0, 0, 0), conn=keep)
        assert str(db_path) + "-wal" in source.watched()
        result = source.read([str(db_path) + "-wal"])
        assert [f.key.session_id for f in result.facts] == [DEMO]
    finally:
        keep.close()


def test_not_an_opencode_database_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path / "opencode"
    folder.mkdir()
    sqlite3.connect(folder / "opencode.db").execute("CREATE TABLE t (x)").connection.close()
    (folder / "opencode-beta.db").write_bytes(b"not a database at all, just text" * 10)
    source = OpencodeSource([folder])
    watched = source.watched()
    assert watched == [str(folder / "opencode-beta.db"), str(folder / "opencode.db")]
    result = source.read(watched)
    assert result.facts == ()
    assert {p.where for p in result.problems} == set(watched)


def test_create_honours_xdg_and_opencode_db(tmp_path: Path) -> None:
    home = tmp_path / "home"
    default = create(AgentConfig(), {}, home)
    assert default.roots()[0] == home / ".local" / "share" / "opencode"
    xdg = create(AgentConfig(), {"XDG_DATA_HOME": str(tmp_path / "xdg")}, home)
    assert xdg.roots()[0] == tmp_path / "xdg" / "opencode"
    relative = create(AgentConfig(), {"XDG_DATA_HOME": "rel"}, home)
    assert relative.roots()[0] == home / ".local" / "share" / "opencode"  # as the XDG spec says
    configured = create(AgentConfig(roots=("~/oc",)), {"XDG_DATA_HOME": "/x"}, home)
    assert configured.roots()[0] == home / "oc"
    elsewhere = tmp_path / "elsewhere.db"
    shutil.copy(SAMPLE / ".local" / "share" / "opencode" / "opencode.db", elsewhere)
    named = create(AgentConfig(), {"OPENCODE_DB": str(elsewhere)}, home)
    assert named.watched() == [str(elsewhere)]
    assert {f.key.session_id for f in named.read([str(elsewhere)]).facts} == {DEMO, OTHER}


# -- helpers: the test acting as opencode ---------------------------------------------------

class writer:
    """A write connection to the *copy*, committed on exit."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self._db

    def __exit__(self, *exc: object) -> None:
        self._db.commit()
        self._db.close()


def add_assistant_message(
    db_path: Path,
    session_id: str,
    message_id: str,
    tokens: tuple[int, int, int, int, int],
    completed: bool = True,
    conn: sqlite3.Connection | None = None,
) -> None:
    inp, out, reasoning, cache_read, cache_write = tokens
    now = 1795564760000
    data: dict[str, object] = {
        "role": "assistant", "modelID": "mock-model", "providerID": "mock", "cost": 0.001,
        "tokens": {"input": inp, "output": out, "reasoning": reasoning,
                   "cache": {"read": cache_read, "write": cache_write}},
        "time": {"created": now, **({"completed": now + 500} if completed else {})},
    }  # fmt: skip
    insert = (
        "INSERT INTO message (id, session_id, time_created, time_updated, data)"
        " VALUES (?, ?, ?, ?, ?)"
    )
    values = (message_id, session_id, now, now, json.dumps(data))
    if conn is not None:
        conn.execute(insert, values)
        return
    with writer(db_path) as db:
        db.execute(insert, values)


def add_tool_error(db_path: Path, session_id: str, message_id: str) -> None:
    part = {"type": "tool", "tool": "bash", "callID": "call_1",
            "state": {"status": "error", "error": "exit 2", "input": {"command": "ls /nope"},
                      "time": {"start": 1795564760100, "end": 1795564760200}}}  # fmt: skip
    with writer(db_path) as db:
        db.execute(
            "INSERT INTO part (id, message_id, session_id, time_created, time_updated, data)"
            " VALUES ('prt_zz', ?, ?, 1795564760100, 1795564760200, ?)",
            (message_id, session_id, json.dumps(part)),
        )

