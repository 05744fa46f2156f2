"""Opening Cursor's `state.vscdb` files without ever writing to them or waiting on Cursor.

Three rules, all because the database belongs to a running editor:
- `mode=ro` and `PRAGMA query_only`: no statement of ours can change it.
- A short busy timeout: when Cursor holds a write lock the read fails at once with `DbBusy`, and
  the caller tries again on the next poll instead of blocking the poll.
- A database in WAL mode with no `-wal` file beside it (Cursor is not running) is opened with
  `immutable=1`. A plain read-only open would create `-wal` and `-shm` files in Cursor's folder and
  leave them behind; with no `-wal` there is no writer whose changes could be missed. A torn read,
  should Cursor start writing meanwhile, raises an error that is handled like any other, and the
  write changes the files' stat, so the next poll reads them again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.core.models import Problem
from llm_session_manager.core.sources.json_values import as_dict

BUSY_TIMEOUT_S = 0.05
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_WAL_VERSION = 2  # header bytes 18 and 19 (write and read format versions): 2 = WAL


class DbError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class DbBusy(DbError):
    """Another connection holds a lock: read it again later."""


def _is_wal(path: str) -> bool:
    with open(path, "rb") as handle:
        header = handle.read(20)
    return len(header) == 20 and header[18] == _WAL_VERSION


def _uri(path: str) -> str:
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    if _is_wal(path) and not os.path.exists(path + "-wal"):
        uri += "&immutable=1"
    return uri


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)  # extended codes keep the base
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def open_readonly(path: str, timeout: float = BUSY_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    """A read-only connection, closed on exit. Raises DbBusy or DbError, never sqlite3.Error."""
    try:
        conn = sqlite3.connect(_uri(path), uri=True, timeout=timeout, isolation_level=None)
    except OSError as exc:
        raise DbError(path, exc.strerror or str(exc)) from exc
    except sqlite3.Error as exc:
        raise (DbBusy if _is_busy(exc) else DbError)(path, str(exc)) from exc
    try:
        conn.execute("PRAGMA query_only = 1")
        yield conn
    except sqlite3.Error as exc:
        raise (DbBusy if _is_busy(exc) else DbError)(path, str(exc)) from exc
    finally:
        conn.close()


def tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(name) for (name,) in rows}


def item_values(conn: sqlite3.Connection, keys: Iterable[str]) -> dict[str, bytes | str]:
    """Values of `ItemTable` (the key/value table VS Code's storage uses) for the given keys."""
    wanted = list(keys)
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(f"SELECT key, value FROM ItemTable WHERE key IN ({marks})", wanted)
    return {str(key): value for key, value in rows if value is not None}


def kv_prefix(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, bytes | str]]:
    """Rows of `cursorDiskKV` whose key starts with `prefix`.

    A range on the key (unique, hence indexed) instead of LIKE, which SQLite cannot run on an
    index by default: the global database holds every bubble of every chat.
    """
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = conn.execute(
        "SELECT key, value FROM cursorDiskKV WHERE key >= ? AND key < ?", (prefix, upper)
    )
    return [(str(key), value) for key, value in rows if value is not None]


def kv_value(conn: sqlite3.Connection, key: str) -> bytes | str | None:
    """One `cursorDiskKV` value, so a long conversation is read a message at a time."""
    row = conn.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def digest(value: bytes | str) -> bytes:
    import hashlib  # only where Cursor is in use; a few ms of every start-up otherwise

    data = value.encode() if isinstance(value, str) else value
    return hashlib.blake2b(data, digest_size=16).digest()


def load_object(
    value: bytes | str | None, db: str, key: str, problems: list[Problem]
) -> dict[str, Any]:
    """A JSON object from a database value; {} (and a problem) when it is not one."""
    if value is None:
        return {}
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        problems.append(Problem(db, f"{key}: not JSON ({exc})"))
        return {}
    return as_dict(data)
