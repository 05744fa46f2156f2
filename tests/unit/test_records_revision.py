"""An upgrade that reads the records differently reads every file again once, and loses nothing.

Facts of a file that never changes again are never rebuilt from cursors, so a store whose facts
come from an older reading (RECORDS_REVISION) forgets its cursors once; what the user set stays.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
from test_poller import by_id, make_poller

from llm_session_manager.core.models import SessionKey
from llm_session_manager.store import revision
from llm_session_manager.store.repo import Store

CLAUDE = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"


def record_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file()]


def test_a_current_store_is_not_read_again(sample_home: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "sessions.db") as store:
        make_poller(sample_home, tmp_path, store).poll_once()
        assert revision.stored_revision(store) == revision.RECORDS_REVISION
        again = make_poller(sample_home, tmp_path, store).poll_once()  # a new process
    assert again.bytes_read == 0 and again.files_read == 0


def test_facts_from_an_older_reading_are_read_again_once_keeping_the_users_data(
    sample_home: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sessions.db"
    key = SessionKey("claude-code", CLAUDE)
    with Store.open(db) as store:
        first = make_poller(sample_home, tmp_path, store).poll_once()
        store.add_tags(key, ["backend"])
        store.set_project(key, "payments")
    version = by_id(first)[CLAUDE].facts.agent_version
    assert version is not None
    # What an older version left: facts without the field it did not read, an older revision.
    with sqlite3.connect(db) as conn:
        for row_id, text in conn.execute("SELECT id, facts_json FROM session").fetchall():
            facts = orjson.loads(text)
            facts.pop("agent_version", None)
            conn.execute("UPDATE session SET facts_json = ? WHERE id = ?",
                         (orjson.dumps(facts).decode(), row_id))
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'records_revision'")

    with Store.open(db) as store:
        upgraded = make_poller(sample_home, tmp_path, store).poll_once()
        assert revision.stored_revision(store) == revision.RECORDS_REVISION
        after = make_poller(sample_home, tmp_path, store).poll_once()
    # Every line-record file was read from its first byte, once.
    assert upgraded.bytes_read >= sum(
        p.stat().st_size for p in record_files(sample_home) if p.suffix == ".jsonl"
    )
    assert after.bytes_read == 0
    session = by_id(upgraded)[CLAUDE]
    assert session.facts.agent_version == version
    assert session.tags == ("backend",) and session.project == "payments"
    assert {s.key for s in upgraded.sessions} == {s.key for s in first.sessions}
    assert [s.facts.usage for s in upgraded.sessions] == [s.facts.usage for s in first.sessions]


def test_a_store_from_before_the_meta_table_counts_as_the_first_reading(tmp_path: Path) -> None:
    with Store.open(tmp_path / "sessions.db") as store:
        with sqlite3.connect(store.path) as conn:
            conn.execute("DELETE FROM meta")
        assert revision.stored_revision(store) == 1
        assert revision.reread_if_outdated(store) is True
        assert revision.reread_if_outdated(store) is False
