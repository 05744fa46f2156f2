"""Notes, imported documents and recorded file problems: the store's tables added in schema v2.

A companion to `repo.Store` (which keeps sessions, cursors, tags, projects and samples): it works
on the same open database, through the same record proxy, and takes and returns plain values and
core.models dataclasses. `import_session` writes an import in one transaction, so a failure
leaves nothing half-imported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from llm_session_manager.core.models import Problem, SessionFacts, SessionKey
from llm_session_manager.store.db import database
from llm_session_manager.store.failures import store_failures
from llm_session_manager.store.records import (
    FileProblemRecord,
    ImportedDocumentRecord,
    NoteRecord,
)
from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 100_000
# Problems are evidence for `info`, not a log: the newest are enough.
MAX_FILE_PROBLEMS = 500


class Documents:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._path = store.path

    # --- notes ---------------------------------------------------------------------------------

    def note(self, key: SessionKey) -> str | None:
        n = NoteRecord
        with self._guard("reading a note"):
            rows = _rows(n.select(n.text).where(n.session_key == str(key)))
        return rows[0][0] if rows else None

    def set_note(self, key: SessionKey, text: str | None, now: datetime | None = None) -> None:
        """Set a session's note; None or blank text removes it. ValueError if it is too long."""
        n = NoteRecord
        # Kept as given (not stripped), so an imported note exports back exactly.
        clean = text if text and text.strip() else ""
        if len(clean) > MAX_NOTE_CHARS:
            raise ValueError(f"note: {len(clean):,} characters; the limit is {MAX_NOTE_CHARS:,}")
        with self._guard("saving a note"):
            if not clean:
                n.delete().where(n.session_key == str(key)).execute()
                return
            n.insert(session_key=str(key), text=clean, updated_at=now or datetime.now(UTC)) \
                .on_conflict(conflict_target=[n.session_key], preserve=[n.text, n.updated_at]) \
                .execute()  # fmt: skip

    # --- imported documents --------------------------------------------------------------------

    def save_document(
        self, key: SessionKey, document: dict[str, Any], now: datetime | None = None
    ) -> None:
        d = ImportedDocumentRecord
        version = document.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValueError("schema_version: expected an integer")
        text = orjson.dumps(document).decode()
        with self._guard("saving an imported document"):
            d.insert(
                session_key=str(key), schema_version=version, document_json=text,
                imported_at=now or datetime.now(UTC),
            ).on_conflict(
                conflict_target=[d.session_key],
                preserve=[d.schema_version, d.document_json, d.imported_at],
            ).execute()  # fmt: skip

    def load_document(self, key: SessionKey) -> dict[str, Any] | None:
        """The document an imported session came from; None when it was not imported."""
        d = ImportedDocumentRecord
        with self._guard("reading an imported document"):
            rows = _rows(d.select(d.document_json).where(d.session_key == str(key)))
        if not rows:
            return None
        document = orjson.loads(rows[0][0])
        if not isinstance(document, dict):
            raise ValueError(f"stored document of {key} is not a JSON object")
        return document

    def import_session(
        self,
        facts: SessionFacts,
        tags: Sequence[str],
        project: str | None,
        note: str | None,
        document: dict[str, Any],
        now: datetime | None = None,
    ) -> None:
        """Store an imported session (replacing what its key had) in one transaction."""
        stamp = now or datetime.now(UTC)
        key = facts.key
        store = self._store
        with self._guard("importing a session"), database.atomic():
            store.save_facts([facts], imported=True, now=stamp)
            current = store.tags_by_session().get(key, ())
            stale = [t for t in current if t not in tags]
            if stale:
                store.remove_tags(key, stale)
            if tags:
                store.add_tags(key, tags)
            store.set_project(key, project)
            self.set_note(key, note, stamp)
            self.save_document(key, document, stamp)

    # --- file problems -------------------------------------------------------------------------

    def record_file_problems(
        self, problems: Sequence[Problem], now: datetime | None = None
    ) -> None:
        """Remember problems with record files ("path" or "path:line"); newest kept, bounded."""
        if not problems:
            return
        stamp = now or datetime.now(UTC)
        rows: dict[tuple[str, int, str], tuple[Any, ...]] = {}
        for problem in problems:
            path, line = _split_where(problem.where)
            rows[(path, line, problem.message)] = (path, line, problem.message, problem.count,
                                                   stamp)  # fmt: skip
        p = FileProblemRecord
        fields = [p.path, p.line, p.message, p.count, p.seen_at]
        with self._guard("recording file problems"), database.atomic():
            items = list(rows.values())
            for start in range(0, len(items), 150):
                p.insert_many(items[start : start + 150], fields=fields).on_conflict(
                    conflict_target=[p.path, p.line, p.message], preserve=[p.count, p.seen_at]
                ).execute()
            keep = p.select(p.id).order_by(p.seen_at.desc(), p.id.desc()).limit(MAX_FILE_PROBLEMS)
            p.delete().where(p.id.not_in(keep)).execute()

    def file_problems_recorded(self, limit: int = MAX_FILE_PROBLEMS) -> list[Problem]:
        """Recorded problems, newest first, as `Problem("path[:line]", message, count)`."""
        p = FileProblemRecord
        query = (
            p.select(p.path, p.line, p.message, p.count)
            .order_by(p.seen_at.desc(), p.id.desc())
            .limit(limit)
        )
        with self._guard("reading file problems"):
            rows = _rows(query)
        return [
            Problem(f"{path}:{line}" if line else path, message, count)
            for path, line, message, count in rows
        ]

    def forget_file_problems(self, paths: Sequence[str]) -> int:
        """Drop the problems of files that were read again cleanly or are gone."""
        p = FileProblemRecord
        with self._guard("forgetting file problems"):
            return int(p.delete().where(p.path.in_(list(paths))).execute()) if paths else 0

    # --- errors --------------------------------------------------------------------------------

    def _guard(self, action: str) -> AbstractContextManager[None]:
        return store_failures(self._path, action, log)


def _rows(query: Any) -> list[tuple[Any, ...]]:
    return cast("list[tuple[Any, ...]]", list(query.tuples()))


def _split_where(where: str) -> tuple[str, int]:
    """"/a/b.jsonl:12" -> ("/a/b.jsonl", 12); a path alone (or "C:\\x") -> (path, 0)."""
    head, sep, tail = where.rpartition(":")
    if sep and head and tail.isdigit():
        return head, int(tail)
    return where, 0
