"""The store's one door: takes and returns core.models dataclasses; no peewee object leaves here.

Every batch is one transaction. Bulk writes are chunked multi-row upserts (INSERT ... ON CONFLICT),
and hot reads select tuples rather than building a model instance per row: the poller saves a
few thousand cursors and sessions after a cold start, and the CLI loads every session on each run.

Any failure of the database (locked, corrupt, read-only, disk full) becomes a StoreError carrying
the path; bugs in our own SQL (integrity, programming errors) are left to surface as they are.

The records are bound through one module-level proxy (store.db.database), so one process uses one
open Store at a time; `Store.open` rebinds it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
from peewee import Database, ModelSelect

from llm_session_manager.core.codec import facts_from_stored, facts_to_dict
from llm_session_manager.core.models import Problem, SessionFacts, SessionKey, UsageSample
from llm_session_manager.core.tail import Cursor
from llm_session_manager.store.bulk import upsert_many
from llm_session_manager.store.db import open_database
from llm_session_manager.store.failures import store_failures
from llm_session_manager.store.records import (
    FileCursorRecord,
    NotificationRecord,
    ProjectRecord,
    SessionRecord,
    SessionTagRecord,
    TagRecord,
    UsageSampleRecord,
    unsigned_64,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Bound parameters per statement. SQLite before 3.32 allows 999; staying under it keeps old
# system libraries working and costs little (a chunk of 90 cursor rows is still one statement).
_MAX_PARAMS = 999


@dataclass(frozen=True)
class StoredCursor:
    """Where reading one agent file stopped, and whose file it is."""

    path: str
    agent: str
    session_id: str
    role: str
    cursor: Cursor


@dataclass(frozen=True)
class StoredSession:
    facts: SessionFacts
    hidden: bool = False
    imported: bool = False


class Store:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._path = str(db.database)
        self._unreadable: dict[str, str] = {}  # session key -> why, from the last load_sessions

    @classmethod
    def open(cls, path: Path, timeout: float = 5.0) -> Store:
        """Open and migrate the database at `path`. Raises StoreError (or SchemaTooNewError)."""
        return cls(open_database(path, timeout=timeout))

    @property
    def path(self) -> str:
        return self._path

    def close(self) -> None:
        """Close the calling thread's connection (peewee keeps one per thread)."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- file cursors --------------------------------------------------------------------------

    def load_cursors(self, agent: str) -> dict[str, StoredCursor]:
        """Every cursor of one agent's files, without their accumulator state (loaded on demand)."""
        r = FileCursorRecord
        query = r.select(
            r.path, r.session_id, r.role, r.dev, r.ino, r.size, r.mtime_ns, r.offset, r.lines
        ).where(r.agent == agent)
        with self._guard("reading file cursors"):
            rows = _raw_rows(query)
        # Raw rows skip UInt64Field's conversion: unwrap dev and ino as it would.
        return {
            path: StoredCursor(path, agent, sid, role, Cursor(
                unsigned_64(dev), unsigned_64(ino), size, mtime, off, lines
            ))
            for path, sid, role, dev, ino, size, mtime, off, lines in rows
        }  # fmt: skip

    def load_cursor_state(self, path: str) -> dict[str, Any] | None:
        """The accumulator state saved with a file's cursor; None when there is none.

        Raises ValueError when the saved text is not a JSON object.
        """
        r = FileCursorRecord
        with self._guard("reading a file's saved state"):
            row = _first(r.select(r.state_json).where(r.path == path))
        if row is None or row[0] is None:
            return None
        state = orjson.loads(row[0])
        if not isinstance(state, dict):
            raise ValueError(f"saved state of {path} is not a JSON object")
        return state

    def save_cursors(self, items: Sequence[tuple[StoredCursor, dict[str, Any] | None]]) -> None:
        """Insert or replace cursors and their state (None stores no state) in one transaction."""
        by_path: dict[str, tuple[Any, ...]] = {}
        for stored, state in items:
            c = stored.cursor
            text = None if state is None else orjson.dumps(state).decode()
            by_path[stored.path] = (
                stored.path, stored.agent, stored.session_id, stored.role,
                c.dev, c.ino, c.size, c.mtime_ns, c.offset, c.lines, text,
            )  # fmt: skip
        r = FileCursorRecord
        fields = [
            r.path, r.agent, r.session_id, r.role,
            r.dev, r.ino, r.size, r.mtime_ns, r.offset, r.lines, r.state_json,
        ]  # fmt: skip
        with self._guard("saving file cursors"), self._db.atomic():
            upsert_many(self._db, r, fields, list(by_path.values()), [r.path], fields[1:])

    def delete_cursors(self, paths: Iterable[str]) -> int:
        r = FileCursorRecord
        deleted = 0
        with self._guard("deleting file cursors"), self._db.atomic():
            for chunk in _chunks(list(dict.fromkeys(paths)), 1):
                deleted += r.delete().where(r.path.in_(chunk)).execute()
        return deleted

    # --- sessions ------------------------------------------------------------------------------

    def load_sessions(self) -> dict[SessionKey, StoredSession]:
        """Every stored session. A row that no longer decodes is skipped with a warning."""
        r = SessionRecord
        out: dict[SessionKey, StoredSession] = {}
        unreadable: dict[str, str] = {}
        with self._guard("reading sessions"):
            rows = _raw_rows(r.select(r.key, r.facts_json, r.hidden, r.imported))
        for key_text, facts_json, hidden, imported in rows:
            try:
                facts = facts_from_stored(orjson.loads(facts_json))
            except ValueError as exc:
                log.warning("stored session %s cannot be read (%s); skipped", key_text, exc)
                unreadable[key_text] = str(exc)
                continue
            out[facts.key] = StoredSession(facts, bool(hidden), bool(imported))
        self._unreadable = unreadable
        return out

    def file_problems(self) -> list[Problem]:
        """Stored rows the last `load_sessions` had to skip, said so a user can see them."""
        return [
            Problem(self._path, f"stored session {key} cannot be read: {why}")
            for key, why in sorted(self._unreadable.items())
        ]

    def save_facts(
        self,
        facts: Sequence[SessionFacts],
        *,
        imported: bool = False,
        now: datetime | None = None,
    ) -> None:
        """Insert or update sessions in one transaction. `hidden` is the user's and is kept;
        `imported` is set as given (a session read from an agent's files again is not imported).
        """
        stamp = now or datetime.now(UTC)
        by_key: dict[str, tuple[Any, ...]] = {}
        for f in facts:
            text = orjson.dumps(facts_to_dict(f)).decode()
            key = str(f.key)
            by_key[key] = (key, f.key.agent, f.key.session_id, text,
                           f.last_activity_at, stamp, False, imported)  # fmt: skip
        r = SessionRecord
        fields = [
            r.key, r.agent, r.session_id, r.facts_json, r.last_activity_at, r.updated_at,
            r.hidden, r.imported,
        ]  # fmt: skip
        preserve = [r.facts_json, r.last_activity_at, r.updated_at, r.imported]
        with self._guard("saving sessions"), self._db.atomic():
            upsert_many(self._db, r, fields, list(by_key.values()), [r.key], preserve)

    def set_hidden(self, key: SessionKey, hidden: bool) -> bool:
        """Hide or show a session; False when no such session is stored."""
        r = SessionRecord
        with self._guard("hiding a session"):
            return bool(r.update(hidden=hidden).where(r.key == str(key)).execute())

    def session_flags(self) -> dict[SessionKey, tuple[bool, bool]]:
        """(hidden, imported) of every stored session that has either flag set."""
        r = SessionRecord
        with self._guard("reading session flags"):
            rows = _rows(
                r.select(r.agent, r.session_id, r.hidden, r.imported).where(
                    (r.hidden == True) | (r.imported == True)  # noqa: E712 (peewee expressions)
                )
            )
        return {SessionKey(a, s): (bool(h), bool(i)) for a, s, h, i in rows}

    def delete_session(self, key: SessionKey) -> bool:
        """Forget a session and everything stored about it; False when it was not stored."""
        text = str(key)
        with self._guard("deleting a session"), self._db.atomic():
            found = SessionRecord.delete().where(SessionRecord.key == text).execute()
            for record in (SessionTagRecord, ProjectRecord, UsageSampleRecord, NotificationRecord):
                record.delete().where(record.session_key == text).execute()
            c = FileCursorRecord
            c.delete().where((c.agent == key.agent) & (c.session_id == key.session_id)).execute()
            self._drop_unused_tags()
        return bool(found)

    # --- tags ----------------------------------------------------------------------------------

    def tags_by_session(self) -> dict[SessionKey, tuple[str, ...]]:
        """Tags per session, in the order they were added."""
        st, t = SessionTagRecord, TagRecord
        query = st.select(st.session_key, t.name).join(t).order_by(st.session_key, st.id)
        with self._guard("reading tags"):
            rows = _rows(query)
        grouped: dict[str, list[str]] = {}
        for key_text, name in rows:
            grouped.setdefault(key_text, []).append(name)
        return {SessionKey.parse(k): tuple(names) for k, names in grouped.items()}

    def add_tags(self, key: SessionKey, tags: Iterable[str]) -> list[str]:
        """Attach tags (blank ones are refused with ValueError); return those newly attached."""
        names = _clean_names(tags, "tag")
        if not names:
            return []
        st, t = SessionTagRecord, TagRecord
        text = str(key)
        with self._guard("adding tags"), self._db.atomic():
            t.insert_many([(n,) for n in names], fields=[t.name]).on_conflict_ignore().execute()
            ids = dict(_rows(t.select(t.name, t.id).where(t.name.in_(names))))
            mine = st.select(t.name).join(t).where(st.session_key == text)
            have = {name for (name,) in _rows(mine)}
            new = [n for n in names if n not in have]
            if new:
                rows = [(text, ids[n]) for n in new]
                st.insert_many(rows, fields=[st.session_key, st.tag]).execute()
        return new

    def remove_tags(self, key: SessionKey, tags: Iterable[str]) -> list[str]:
        """Detach tags; return those that were attached. A tag no session uses is forgotten."""
        names = [n.strip() for n in tags if n.strip()]
        if not names:
            return []
        st, t = SessionTagRecord, TagRecord
        text = str(key)
        with self._guard("removing tags"), self._db.atomic():
            query = st.select(t.name, st.id).join(t)
            attached = dict(_rows(query.where((st.session_key == text) & t.name.in_(names))))
            if attached:
                st.delete().where(st.id.in_(list(attached.values()))).execute()
                self._drop_unused_tags()
        return [n for n in dict.fromkeys(names) if n in attached]

    def all_tags(self) -> list[str]:
        t = TagRecord
        with self._guard("reading tags"):
            return [name for (name,) in _rows(t.select(t.name).order_by(t.name))]

    def _drop_unused_tags(self) -> None:
        t, st = TagRecord, SessionTagRecord
        t.delete().where(t.id.not_in(st.select(st.tag))).execute()

    # --- projects ------------------------------------------------------------------------------

    def set_project(self, key: SessionKey, name: str | None) -> None:
        """Name the session's project; None or a blank name clears it."""
        p = ProjectRecord
        text = str(key)
        clean = (name or "").strip()
        with self._guard("setting a project"):
            if not clean:
                p.delete().where(p.session_key == text).execute()
                return
            p.insert(session_key=text, name=clean).on_conflict(
                conflict_target=[p.session_key], preserve=[p.name]
            ).execute()

    def projects_by_session(self) -> dict[SessionKey, str]:
        p = ProjectRecord
        with self._guard("reading projects"):
            rows = _rows(p.select(p.session_key, p.name))
        return {SessionKey.parse(k): name for k, name in rows}

    # --- usage samples -------------------------------------------------------------------------

    def add_samples(self, items: Sequence[UsageSample]) -> None:
        if not items:
            return
        s = UsageSampleRecord
        fields = [s.session_key, s.at, s.total_tokens, s.context_tokens, s.window]
        rows = [(str(i.key), i.at, i.total_tokens, i.context_tokens, i.window) for i in items]
        with self._guard("saving usage samples"), self._db.atomic():
            upsert_many(self._db, s, fields, rows)

    def samples_for(self, key: SessionKey, since: datetime | None = None) -> list[UsageSample]:
        """A session's samples, oldest first; only those at or after `since` if given."""
        s = UsageSampleRecord
        cond = s.session_key == str(key)
        if since is not None:
            cond &= s.at >= since
        query = (
            s.select(s.at, s.total_tokens, s.context_tokens, s.window)
            .where(cond)
            .order_by(s.at, s.id)
        )
        with self._guard("reading usage samples"):
            rows = _rows(query)
        return [UsageSample(key, at, total, ctx, win) for at, total, ctx, win in rows]

    def prune_samples(self, before: datetime) -> int:
        """Delete samples older than `before` (keeps the table bounded); return how many."""
        s = UsageSampleRecord
        with self._guard("pruning usage samples"):
            return int(s.delete().where(s.at < before).execute())

    # --- notifications -------------------------------------------------------------------------

    def last_notified(self, key: SessionKey, condition: str) -> datetime | None:
        n = NotificationRecord
        with self._guard("reading notification times"):
            query = n.select(n.at).where((n.session_key == str(key)) & (n.condition == condition))
            row = _first(query)
        return None if row is None else row[0]

    def record_notified(self, key: SessionKey, condition: str, at: datetime) -> None:
        n = NotificationRecord
        with self._guard("recording a notification"):
            n.insert(session_key=str(key), condition=condition, at=at).on_conflict(
                conflict_target=[n.session_key, n.condition], preserve=[n.at]
            ).execute()

    # --- errors --------------------------------------------------------------------------------

    def _guard(self, action: str) -> AbstractContextManager[None]:
        return store_failures(self._path, action, log)


def _rows(query: ModelSelect[Any]) -> list[tuple[Any, ...]]:
    """Run a select as plain tuples: no model instance per row, several times faster."""
    return cast("list[tuple[Any, ...]]", list(query.tuples()))


def _raw_rows(query: ModelSelect[Any]) -> list[tuple[Any, ...]]:
    """The rows as sqlite3 returns them, for the two big reads every command makes (cursors and
    sessions): peewee's row wrapper costs ~10 µs a row there. Only for columns stored as plain
    text and integers, which need no field conversion."""
    sql, params = query.sql()
    db: Database = query.model._meta.database
    cursor = db.execute_sql(sql, params)  # type: ignore[no-untyped-call]  # unannotated in stubs
    return cast("list[tuple[Any, ...]]", cursor.fetchall())


def _first(query: ModelSelect[Any]) -> tuple[Any, ...] | None:
    rows = _rows(query.limit(1))
    return rows[0] if rows else None


def _chunks(rows: list[_T], columns: int) -> Iterator[list[_T]]:
    size = max(1, _MAX_PARAMS // max(1, columns))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _clean_names(names: Iterable[str], what: str) -> list[str]:
    out: dict[str, None] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            raise ValueError(f"{what}: a blank name is not allowed")
        out[name] = None
    return list(out)
