"""store.migrations: one path builds the schema; it matches the records; too new is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from peewee import SqliteDatabase, TextField
from playhouse.migrate import migrate

from llm_session_manager.core.errors import SchemaTooNewError, StoreError
from llm_session_manager.store.db import database, open_database
from llm_session_manager.store.migrations import (
    LATEST,
    MIGRATIONS,
    backup_path,
    migrate_to_latest,
    schema_version,
)
from llm_session_manager.store.records import RECORDS


def _schema(db: SqliteDatabase) -> dict[str, Any]:
    """Everything about the tables that matters to the records, in comparable form."""
    out: dict[str, Any] = {}
    for table in sorted(db.get_tables()):
        out[table] = {
            "columns": [
                (c.name, c.data_type, c.null, c.primary_key) for c in db.get_columns(table)
            ],
            "indexes": sorted((i.name, tuple(i.columns), i.unique) for i in db.get_indexes(table)),
            "foreign_keys": sorted(
                (f.column, f.dest_table, f.dest_column) for f in db.get_foreign_keys(table)
            ),
        }
    return out


def test_migrating_an_empty_database_gives_exactly_the_records_schema(tmp_path: Path) -> None:
    migrated = SqliteDatabase(str(tmp_path / "migrated.db"))
    assert schema_version(migrated) == 0
    assert migrate_to_latest(migrated) == 0
    assert schema_version(migrated) == LATEST == len(MIGRATIONS)

    for record in RECORDS:
        table = record._meta.table_name
        columns = [c.name for c in migrated.get_columns(table)]
        assert columns == [f.column_name for f in record._meta.sorted_fields], table

    # Column types, nullability, keys, indexes and foreign keys: the same as peewee would make
    # from the record declarations, so the literal DDL and the records cannot drift apart.
    declared = SqliteDatabase(str(tmp_path / "declared.db"))
    with declared.bind_ctx(RECORDS):
        declared.create_tables(RECORDS)
    assert _schema(migrated) == _schema(declared)
    assert set(_schema(migrated)) == {r._meta.table_name for r in RECORDS}


def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    db = open_database(path)
    assert db.user_version == LATEST
    assert db.pragma("journal_mode") == "wal"
    assert db.pragma("foreign_keys") == 1
    assert db.pragma("synchronous") == 1  # NORMAL
    db.execute_sql("INSERT INTO tag (name) VALUES ('kept')")
    db.close()

    again = open_database(path)
    assert again.user_version == LATEST
    assert [r[0] for r in again.execute_sql("SELECT name FROM tag")] == ["kept"]
    again.close()
    # Nothing to upgrade, so no backup copy was made.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "sessions.db"
    ]


def _v2_add_note(db: SqliteDatabase, migrator: Any) -> None:
    migrate(migrator.add_column("project", "note", TextField(null=True)))


def test_upgrading_a_stored_v1_database_backs_it_up_and_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    v1 = SqliteDatabase(str(path))
    migrate_to_latest(v1, migrations=MIGRATIONS[:1])
    v1.execute_sql("INSERT INTO project (session_key, name) VALUES ('codex:a', 'alpha')")
    v1.close()

    db = SqliteDatabase(str(path))
    now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert migrate_to_latest(db, migrations=(*MIGRATIONS[:1], _v2_add_note), now=now) == 1
    assert db.user_version == 2
    assert [c.name for c in db.get_columns("project")][-1] == "note"
    assert list(db.execute_sql("SELECT session_key, name, note FROM project")) == [
        ("codex:a", "alpha", None)
    ]
    db.close()

    backup = backup_path(path, 1, now)
    assert backup.name == "sessions_v1_20260501-080000.db"
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
        assert conn.execute("SELECT * FROM project").fetchall() == [(1, "codex:a", "alpha")]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_a_failing_step_leaves_the_version_and_schema_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    db = SqliteDatabase(str(path))
    migrate_to_latest(db, migrations=MIGRATIONS[:1])

    def _v2_broken(db: SqliteDatabase, migrator: Any) -> None:
        db.execute_sql('CREATE TABLE "half_done" ("id" INTEGER)')
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        migrate_to_latest(db, migrations=(*MIGRATIONS[:1], _v2_broken))
    assert db.user_version == 1
    assert "half_done" not in db.get_tables()


def _too_new(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    return path.read_bytes()


def test_too_new_schema_is_refused_and_the_file_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    before = _too_new(path)
    with pytest.raises(SchemaTooNewError) as info:
        open_database(path)
    assert isinstance(info.value, StoreError)
    assert info.value.found == LATEST + 1 and info.value.known == LATEST
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sessions.db"]  # no backup, no WAL


def test_open_binds_the_records(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sessions.db")
    assert database.obj is db
    db.close()
