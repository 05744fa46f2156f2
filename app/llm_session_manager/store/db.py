"""Open the app's own SQLite database: pragmas, migrations, and errors a user can act on.

Only this app's database is opened here, never an agent's files. Every failure to open or use it
becomes one `StoreError` carrying the path, so the UI can show it and polling goes on without
persistence.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from peewee import (
    DatabaseError,
    DatabaseProxy,
    IntegrityError,
    Model,
    ProgrammingError,
    SqliteDatabase,
)

from llm_session_manager.core.errors import StoreError

log = logging.getLogger(__name__)

database = DatabaseProxy()

# Connection-level settings, applied by peewee to every new connection (the poller thread gets its
# own). journal_mode is left out on purpose: it rewrites the file header, and a database whose
# schema is too new must stay byte-identical, so WAL is switched on only after the version check.
_CONNECTION_PRAGMAS = (("foreign_keys", 1), ("synchronous", "normal"))


class BaseRecord(Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(path: Path, timeout: float = 5.0) -> SqliteDatabase:
    """Open (creating if needed) and migrate the database at `path`; bind the records to it.

    Raises StoreError (SchemaTooNewError for a database written by a newer version).
    """
    from llm_session_manager.store.migrations import migrate_to_latest

    shown = str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            shown,
            f"cannot create the folder {path.parent} ({exc.strerror}); "
            "choose a writable data folder (--data-dir)",
        ) from exc
    db = SqliteDatabase(str(path), pragmas=list(_CONNECTION_PRAGMAS), timeout=timeout)
    try:
        db.connect(reuse_if_open=True)
        migrate_to_latest(db)
        # WAL lets the CLI read while the tray app's poller writes.
        db.pragma("journal_mode", "wal")
    except StoreError:
        db.close()
        raise
    except (DatabaseError, sqlite3.Error) as exc:
        db.close()
        raise store_error(shown, exc) from exc
    database.initialize(db)
    log.debug("opened %s (schema version %s)", shown, db.user_version)
    return db


def store_error(path: str, exc: BaseException) -> StoreError:
    """A StoreError whose message says what happened and what to do about it."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        hint = (
            "the database is locked by another process (another copy of llm-session-manager?); "
            "close it or try again"
        )
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        hint = (
            "the file is not a usable database (corrupt?); move it aside and a new one will be "
            "created (tags and project names in it are then lost)"
        )
    elif "unable to open" in low:
        hint = "cannot open the database file; check that its folder exists and is writable"
    elif "readonly" in low or "read-only" in low:
        hint = "the database is read-only; check the permissions of the file and its folder"
    elif "disk is full" in low or "disk i/o" in low:
        hint = f"cannot write the database ({text}); free some disk space and check the disk"
    else:
        hint = text
    return StoreError(path, hint)


def is_store_failure(exc: BaseException) -> bool:
    """True for database errors caused by the file or other processes, not by our own SQL."""
    ours = IntegrityError | ProgrammingError | sqlite3.IntegrityError | sqlite3.ProgrammingError
    return isinstance(exc, DatabaseError | sqlite3.Error) and not isinstance(exc, ours)
