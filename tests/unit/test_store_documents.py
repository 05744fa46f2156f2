"""Schema v2 (notes, imported documents, file problems): the upgrade from v1 and store/documents."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from peewee import SqliteDatabase

from llm_session_manager.core.models import Problem, SessionFacts, SessionKey
from llm_session_manager.store.documents import MAX_FILE_PROBLEMS, Documents
from llm_session_manager.store.migrations import MIGRATIONS, backup_path, migrate_to_latest
from llm_session_manager.store.repo import Store

KEY = SessionKey("codex", "01a20fd1-0524-7aa0-bb11-fe5f97df676a")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_v1_database_upgrades_to_v2_keeping_rows_and_backing_up(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    v1 = SqliteDatabase(str(path))
    migrate_to_latest(v1, migrations=MIGRATIONS[:1])
    v1.execute_sql("INSERT INTO project (session_key, name) VALUES ('codex:a', 'alpha')")
    assert "note" not in v1.get_tables()
    v1.close()

    db = SqliteDatabase(str(path))
    assert migrate_to_latest(db, migrations=MIGRATIONS[:2], now=NOW) == 1
    assert db.user_version == 2
    assert {"note", "imported_document", "file_problem"} <= set(db.get_tables())
    assert list(db.execute_sql("SELECT session_key, name FROM project")) == [("codex:a", "alpha")]
    assert [c.name for c in db.get_columns("file_problem")] == [
        "id", "path", "line", "message", "count", "seen_at"
    ]
    db.close()
    with sqlite3.connect(backup_path(path, 1, NOW)) as backup:
        assert backup.execute("PRAGMA user_version").fetchone() == (1,)
        tables = {r[0] for r in backup.execute("SELECT name FROM sqlite_master")}
        assert "note" not in tables
    backup.close()


def test_the_upgraded_v2_database_is_usable_through_documents(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    v1 = SqliteDatabase(str(path))
    migrate_to_latest(v1, migrations=MIGRATIONS[:1])
    v1.close()
    with Store.open(path) as store:  # open_database migrates to the latest
        docs = Documents(store)
        docs.set_note(KEY, "  keep my spacing \n")
        assert docs.note(KEY) == "  keep my spacing \n"
        docs.set_note(KEY, "   ")
        assert docs.note(KEY) is None


def test_notes_documents_and_imports(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        docs = Documents(store)
        assert docs.load_document(KEY) is None
        document = {"schema_version": 1, "n": 1.5, "nested": {"ü": [1, None]}}
        docs.save_document(KEY, document, NOW)
        assert docs.load_document(KEY) == document
        with pytest.raises(ValueError, match="note"):
            docs.set_note(KEY, "x" * 100_001)

        facts = SessionFacts(KEY, title="imported one")
        store.add_tags(KEY, ["old", "kept"])
        docs.import_session(facts, ["kept", "new"], "proj", "a note", document, NOW)
        assert store.tags_by_session()[KEY] == ("kept", "new")
        assert store.projects_by_session()[KEY] == "proj"
        assert docs.note(KEY) == "a note"
        stored = store.load_sessions()[KEY]
        assert stored.imported and stored.facts.title == "imported one"
        assert "old" not in store.all_tags()


def test_file_problems_are_kept_across_runs_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        docs = Documents(store)
        docs.record_file_problems(
            [
                Problem("/r/a.jsonl:12", "invalid UTF-8 at byte 3"),
                Problem("/r/b.jsonl", "Permission denied"),
                Problem("/r/a.jsonl", "more bad lines skipped", 4),
            ],
            NOW,
        )
        # The same problem seen again is one row, with its newest count.
        docs.record_file_problems([Problem("/r/a.jsonl", "more bad lines skipped", 6)],
                                  NOW + timedelta(minutes=1))  # fmt: skip
    with Store.open(path) as store:  # another run
        recorded = Documents(store).file_problems_recorded()
        assert recorded[0] == Problem("/r/a.jsonl", "more bad lines skipped", 6)
        assert set(recorded[1:]) == {
            Problem("/r/a.jsonl:12", "invalid UTF-8 at byte 3"),
            Problem("/r/b.jsonl", "Permission denied"),
        }
        assert Documents(store).forget_file_problems(["/r/a.jsonl"]) == 2
        many = [Problem(f"/r/f{i}.jsonl:{i + 1}", "bad") for i in range(MAX_FILE_PROBLEMS + 50)]
        Documents(store).record_file_problems(many, NOW + timedelta(hours=1))
        assert len(Documents(store).file_problems_recorded(limit=10_000)) == MAX_FILE_PROBLEMS
