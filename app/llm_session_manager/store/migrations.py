"""The schema, built one way for new and old databases alike: an append-only list of steps.

`PRAGMA user_version` holds how many steps a database has had; step N sets it to N in the same
transaction as its changes. A database newer than this app is refused untouched (a downgrade would
lose what the newer version wrote). An older one is copied aside before it is upgraded.

Steps never use the live *Record classes: those describe the latest schema, a step describes one
change. `_v1` is literal DDL; later steps use `playhouse.migrate` operations with literal names.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from llm_session_manager.core.errors import SchemaTooNewError

log = logging.getLogger(__name__)

Step = Callable[[SqliteDatabase, Any], None]  # (db, playhouse SchemaMigrator)

_V1_DDL = (
    """CREATE TABLE "session" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "key" TEXT NOT NULL,
        "agent" TEXT NOT NULL,
        "session_id" TEXT NOT NULL,
        "facts_json" TEXT NOT NULL,
        "last_activity_at" DATETIME,
        "updated_at" DATETIME NOT NULL,
        "hidden" INTEGER NOT NULL,
        "imported" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "session_key" ON "session" ("key")',
    """CREATE TABLE "file_cursor" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "path" TEXT NOT NULL,
        "agent" TEXT NOT NULL,
        "session_id" TEXT NOT NULL,
        "role" TEXT NOT NULL,
        "dev" INTEGER NOT NULL,
        "ino" INTEGER NOT NULL,
        "size" INTEGER NOT NULL,
        "mtime_ns" INTEGER NOT NULL,
        "offset" INTEGER NOT NULL,
        "lines" INTEGER NOT NULL,
        "state_json" TEXT)""",
    'CREATE UNIQUE INDEX "file_cursor_path" ON "file_cursor" ("path")',
    'CREATE INDEX "file_cursor_agent" ON "file_cursor" ("agent")',
    """CREATE TABLE "tag" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" TEXT NOT NULL)""",
    'CREATE UNIQUE INDEX "tag_name" ON "tag" ("name")',
    """CREATE TABLE "session_tag" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "tag_id" INTEGER NOT NULL,
        FOREIGN KEY ("tag_id") REFERENCES "tag" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "session_tag_tag_id" ON "session_tag" ("tag_id")',
    'CREATE UNIQUE INDEX "session_tag_session_key_tag_id" '
    'ON "session_tag" ("session_key", "tag_id")',
    """CREATE TABLE "project" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "name" TEXT NOT NULL)""",
    'CREATE UNIQUE INDEX "project_session_key" ON "project" ("session_key")',
    """CREATE TABLE "usage_sample" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "at" DATETIME NOT NULL,
        "total_tokens" INTEGER NOT NULL,
        "context_tokens" INTEGER,
        "window" INTEGER)""",
    'CREATE INDEX "usage_sample_session_key_at" ON "usage_sample" ("session_key", "at")',
    """CREATE TABLE "notification" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "condition" TEXT NOT NULL,
        "at" DATETIME NOT NULL)""",
    'CREATE UNIQUE INDEX "notification_session_key_condition" '
    'ON "notification" ("session_key", "condition")',
)


def _v1_initial(db: SqliteDatabase, migrator: Any) -> None:
    for statement in _V1_DDL:
        _execute(db, statement)


def _execute(db: SqliteDatabase, sql: str) -> None:
    db.execute_sql(sql)  # type: ignore[no-untyped-call]  # unannotated in peewee's stubs


_V2_DDL = (
    """CREATE TABLE "note" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "text" TEXT NOT NULL,
        "updated_at" DATETIME NOT NULL)""",
    'CREATE UNIQUE INDEX "note_session_key" ON "note" ("session_key")',
    """CREATE TABLE "imported_document" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "session_key" TEXT NOT NULL,
        "schema_version" INTEGER NOT NULL,
        "document_json" TEXT NOT NULL,
        "imported_at" DATETIME NOT NULL)""",
    'CREATE UNIQUE INDEX "imported_document_session_key" '
    'ON "imported_document" ("session_key")',
    """CREATE TABLE "file_problem" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "path" TEXT NOT NULL,
        "line" INTEGER NOT NULL,
        "message" TEXT NOT NULL,
        "count" INTEGER NOT NULL,
        "seen_at" DATETIME NOT NULL)""",
    'CREATE UNIQUE INDEX "file_problem_path_line_message" '
    'ON "file_problem" ("path", "line", "message")',
)


def _v2_notes_imports_file_problems(db: SqliteDatabase, migrator: Any) -> None:
    # New tables only, so literal DDL (as in v1) rather than playhouse column operations.
    for statement in _V2_DDL:
        _execute(db, statement)


_V3_DDL = ('CREATE TABLE "meta" ("key" TEXT NOT NULL PRIMARY KEY, "value" TEXT NOT NULL)',)


def _v3_meta(db: SqliteDatabase, migrator: Any) -> None:
    for statement in _V3_DDL:
        _execute(db, statement)


# Append only: a released step is never edited or removed. Version = index + 1.
MIGRATIONS: tuple[Step, ...] = (_v1_initial, _v2_notes_imports_file_problems, _v3_meta)
LATEST = len(MIGRATIONS)


def schema_version(db: SqliteDatabase) -> int:
    return int(db.user_version)


def check_not_too_new(db: SqliteDatabase, known: int = LATEST) -> int:
    """The database's version; SchemaTooNewError (having written nothing) if we cannot read it."""
    current = schema_version(db)
    if current > known:
        raise SchemaTooNewError(str(db.database), current, known)
    return current


def migrate_to_latest(
    db: SqliteDatabase,
    *,
    migrations: Sequence[Step] = MIGRATIONS,
    now: datetime | None = None,
) -> int:
    """Apply the steps the database has not had; return the version found. Safe to call again.

    `migrations` is for tests of the upgrade path; the app always uses MIGRATIONS.
    """
    current = check_not_too_new(db, len(migrations))
    if current == len(migrations):
        return current
    if current > 0:
        backup_copy(db, current, now or datetime.now(UTC))
    # Imported here: every command opens the database, few of them migrate it.
    from playhouse.migrate import SchemaMigrator

    migrator = SchemaMigrator.from_database(db)
    for version, step in enumerate(migrations[current:], start=current + 1):
        with db.atomic():
            step(db, migrator)
            # Inside the step's transaction: SQLite keeps user_version in the file header page,
            # so a failed step leaves the version where it was.
            db.user_version = version
        log.info("database %s migrated to schema version %d", db.database, version)
    return current


def backup_path(db_path: Path, version: int, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return db_path.with_name(f"{db_path.stem}_v{version}_{stamp}{db_path.suffix}")


def backup_copy(db: SqliteDatabase, version: int, now: datetime) -> Path | None:
    """Copy the database file aside before upgrading it.

    sqlite3's backup API is used rather than a file copy: it includes pages still in the WAL.
    """
    source_path = str(db.database)
    if source_path in ("", ":memory:"):
        return None
    target = backup_path(Path(source_path), version, now)
    source = sqlite3.connect(source_path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    log.info("backed up schema version %d to %s", version, target)
    return target
