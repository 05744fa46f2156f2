"""opencode's SQLite database (`<data dir>/opencode*.db`), read read-only and incrementally.

opencode (1.x) keeps everything in one WAL-mode database: `session` (one row per session, with
`parent_id` for a subagent's child session), `message` (`data` = the message JSON) and `part`
(`data` = text, tool calls, step markers). The database changes with every streamed step of a
live session, so a read first asks for a cheap signature per session (the session row's
`time_updated`, its message count and newest message update, from the table rows without their
JSON) and parses messages only of the sessions whose signature moved.

We never write: the connection is `mode=ro` with a short busy timeout, and a busy database is
reported as `DatabaseBusy` so the poller tries again on the next poll.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from llm_session_manager.core.sources.opencode_facts import (
    MessageTally,
    SessionRow,
    clean_prompt,
    tool_error,
)

BUSY_TIMEOUT_S = 0.2  # opencode's own writes are short; waiting longer would stall the poll

Signature = tuple[Any, ...]


class DatabaseBusy(Exception):
    """The database is locked by opencode right now; read it again on the next poll."""


class NotOpencodeDatabase(Exception):
    """The file is a database, but not one with opencode's tables."""


@dataclass(frozen=True)
class ReadSession:
    """One root session, with its child sessions' messages folded in."""

    row: SessionRow
    tally: MessageTally
    first_prompt: str | None


def read_database(
    path: str, known: Mapping[str, Signature]
) -> tuple[list[ReadSession], dict[str, Signature]]:
    """Sessions of the database whose signature differs from `known` (root id -> signature),
    and the signatures of every root session now in the database."""
    try:
        with _connect(path) as db:
            return _read(db, known)
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            raise DatabaseBusy(str(exc)) from exc
        raise


@contextmanager
def _connect(path: str) -> Iterator[sqlite3.Connection]:
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        db.execute("PRAGMA query_only = 1")
        # One read transaction, so the session, message and part queries see one state even
        # while opencode keeps writing.
        db.execute("BEGIN")
        yield db
    finally:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        db.close()


def _read(
    db: sqlite3.Connection, known: Mapping[str, Signature]
) -> tuple[list[ReadSession], dict[str, Signature]]:
    session_cols = columns(db, "session")
    message_cols = columns(db, "message")
    if not {"id", "directory"} <= session_cols or not {"session_id", "data"} <= message_cols:
        raise NotOpencodeDatabase("no opencode session/message tables")
    rows = _sessions(db, session_cols)
    roots = _roots(rows)
    message_sig = _message_signatures(db, message_cols)
    signatures: dict[str, Signature] = {}
    for sid, root in roots.items():
        row = rows[sid]
        member = (sid, row.updated_ms, row.recorded_cost, row.title, *message_sig.get(sid, ()))
        signatures[root] = (*signatures.get(root, ()), member)
    changed = [root for root, sig in signatures.items() if known.get(root) != sig]
    members: dict[str, list[str]] = {}
    for sid, root in roots.items():
        if root in changed:
            members.setdefault(root, []).append(sid)
    out: list[ReadSession] = []
    for root in changed:
        out.append(_read_root(db, rows, root, members[root], "time_created" in message_cols))
    return out, signatures


def _read_root(
    db: sqlite3.Connection,
    rows: Mapping[str, SessionRow],
    root: str,
    sids: list[str],
    ordered: bool,
) -> ReadSession:
    tally = MessageTally()
    order = "time_created, id" if ordered else "id"
    first_user: str | None = None
    for sid in [root, *sorted(s for s in sids if s != root)]:
        own = sid == root
        for mid, raw in db.execute(
            f"SELECT id, data FROM message WHERE session_id = ? ORDER BY {order}", (sid,)
        ):
            data = json_object(raw)
            if data is None:
                continue
            if own and first_user is None and data.get("role") == "user":
                first_user = mid
            tally.add_message(data, own=own)
    if _has_table(db, "part"):
        placeholders = ",".join("?" * len(sids))
        # A bytes test before JSON: only parts that mention an error can be a failed tool call.
        for (raw,) in db.execute(
            f"SELECT data FROM part WHERE session_id IN ({placeholders}) "
            "AND data LIKE '%error%'",
            sids,
        ):
            part = json_object(raw)
            failed = tool_error(part) if part is not None else None
            if failed is not None:
                tally.add_tool_error(*failed)
    prompt = _first_text(db, first_user) if first_user else None
    row = rows[root]
    if tally.recorded_cost == 0 and row.recorded_cost:
        tally.recorded_cost = row.recorded_cost
    return ReadSession(row, tally, prompt)


def _first_text(db: sqlite3.Connection, message_id: str) -> str | None:
    if not _has_table(db, "part"):
        return None
    query = "SELECT data FROM part WHERE message_id = ? ORDER BY id"
    for (raw,) in db.execute(query, (message_id,)):
        part = json_object(raw)
        if part and part.get("type") == "text" and not part.get("synthetic"):
            text = part.get("text")
            if isinstance(text, str) and text.strip():
                return clean_prompt(text)
    return None


def _sessions(db: sqlite3.Connection, cols: set[str]) -> dict[str, SessionRow]:
    wanted = ["id", "directory", "title", "time_created", "time_updated", "parent_id", "cost",
              "version"]
    select = ", ".join(c if c in cols else "NULL" for c in wanted)
    rows: dict[str, SessionRow] = {}
    for sid, directory, title, created, updated, parent, cost, version in db.execute(
        f"SELECT {select} FROM session"
    ):
        if not isinstance(sid, str):
            continue
        rows[sid] = SessionRow(
            id=sid,
            directory=directory if isinstance(directory, str) else None,
            title=title if isinstance(title, str) else None,
            created_ms=created if isinstance(created, int) else None,
            updated_ms=updated if isinstance(updated, int) else None,
            parent_id=parent if isinstance(parent, str) else None,
            recorded_cost=float(cost) if isinstance(cost, int | float) else None,
            version=version if isinstance(version, str) and version else None,
        )
    return rows


def _roots(rows: Mapping[str, SessionRow]) -> dict[str, str]:
    """session id -> the id of its top-level session (a subagent's tokens are its parent's)."""
    out: dict[str, str] = {}
    for sid in rows:
        seen = {sid}
        current = sid
        parent = rows[current].parent_id
        while parent is not None and parent in rows and parent not in seen:
            seen.add(parent)
            current = parent
            parent = rows[current].parent_id
        out[sid] = current
    return out


def _message_signatures(db: sqlite3.Connection, cols: set[str]) -> dict[str, tuple[Any, ...]]:
    newest = "MAX(time_updated)" if "time_updated" in cols else (
        "MAX(time_created)" if "time_created" in cols else "NULL"
    )
    return {
        sid: (count, latest)
        for sid, count, latest in db.execute(
            f"SELECT session_id, COUNT(*), {newest} FROM message GROUP BY session_id"
        )
    }


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    """The table's column names; empty when there is no such table."""
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info('{table}')")}


def _has_table(db: sqlite3.Connection, table: str) -> bool:
    return bool(columns(db, table))


def json_object(raw: Any) -> dict[str, Any] | None:
    """A JSON object from a text or blob column; None for anything else."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def open_readonly(path: str) -> Iterator[sqlite3.Connection]:
    """The connection `read_database` uses (read-only, short busy timeout, one read
    transaction), for the conversation reader."""
    with _connect(path) as db:
        yield db
