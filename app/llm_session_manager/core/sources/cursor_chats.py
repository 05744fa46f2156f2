"""The cursor-agent CLI's chat stores as sessions (formats.md §3.3):
`~/.cursor/chats/<md5(workspace path)>/<session id>/store.db`, one SQLite file per session, with a
`meta.json` beside it in newer builds.

A store says more than the agent transcript the CLI also writes (§3.2): the session's name, the
model it last used, the exact workspace path, when it was created, and what its context holds now
(tokens and window, from the root blob; `cursor_chat_blobs.py`). So a store wins over a transcript
of the same session id (`holds`), and a session is never listed twice.

A store changes as a whole (a new root each turn), so it is a snapshot: read again, read-only,
when its `store.db`, `-wal` or `meta.json` changed. Blobs are content-addressed and never change,
so each message's summary and each linking blob's children are kept per store: a turn costs the
new blobs only. Times come from the files and the metadata; no message records one.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.core.models import (
    Context,
    Errors,
    Problem,
    SessionFacts,
    SessionKey,
    Usage,
)
from llm_session_manager.core.similarity import top_keywords
from llm_session_manager.core.sources.cursor_chat_blobs import (
    children,
    context_snapshot,
    decode_meta,
    is_message,
    walk,
    wire_fields,
)
from llm_session_manager.core.sources.cursor_chat_messages import Said, said, tally
from llm_session_manager.core.sources.cursor_db import (
    BUSY_TIMEOUT_S,
    DbBusy,
    DbError,
    open_readonly,
    tables,
)
from llm_session_manager.core.sources.editor_dirs import dot_cursor, uri_to_path
from llm_session_manager.core.sources.json_values import as_dict, as_str, latest, to_time
from llm_session_manager.core.sources.listing import ListingCache, is_dir, is_file
from llm_session_manager.core.sources.text import short_title
from llm_session_manager.core.sources.text_tokens import TextCounter

AGENT = "cursor"
STORE = "store.db"
META_JSON = "meta.json"
_FILES = (STORE, STORE + "-wal", META_JSON)
MAX_MESSAGES = 50_000  # per session; a conversation this long is read up to here
MAX_META_JSON = 64 * 1024
_WORKSPACE_FIELD = 9  # the root's workspace URI, where the metadata has no path
# Names the CLI gives a session before it has one of its own: the first prompt says more.
_PLACEHOLDER_NAMES = frozenset({"new agent", "new chat", "untitled", "untitled session"})


def default_chat_roots(
    env: Mapping[str, str], home: Path, platform: str | None = None
) -> list[Path]:
    """`~/.cursor/chats` (`dot_cursor`)."""
    return [dot_cursor(env, home, platform) / "chats"]


def is_chat_store(path: str) -> bool:
    return os.path.basename(path) == STORE


def _workspace_dirs(folder: str, listing: list[os.DirEntry[str]]) -> list[str]:
    return [e.path for e in listing if is_dir(e)]


def _store_files(folder: str, listing: list[os.DirEntry[str]]) -> list[str]:
    names = {e.name: e.path for e in listing if e.name in _FILES and is_file(e)}
    if STORE not in names:
        return []  # a session folder without its database (being created, or left behind)
    return [names[name] for name in _FILES if name in names]


@dataclass
class _Store:
    """What is kept of one store between reads: per blob, its message's summary or its
    children (immutable, so never read twice), and the facts of its last read."""

    messages: dict[str, Said] = field(default_factory=dict)
    links: dict[str, tuple[list[str], list[Said]]] = field(default_factory=dict)
    facts: SessionFacts | None = None
    read: bool = False  # a read finished (facts None then means: no message yet)


@dataclass
class ChatRead:
    facts: list[SessionFacts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)


class ChatStores:
    def __init__(
        self,
        roots: Sequence[Path],
        count_tokens: Callable[[str], int] | None = None,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> None:
        self._roots = list(roots)
        self._counter = TextCounter(count_tokens)
        self._timeout = busy_timeout
        self._workspaces: ListingCache[list[str]] = ListingCache(_workspace_dirs, [])
        self._sessions: ListingCache[list[str]] = ListingCache(_workspace_dirs, [])
        self._files: ListingCache[list[str]] = ListingCache(_store_files, [])
        self._owner: dict[str, str] = {}  # watched file -> its session folder
        self._stores: dict[str, _Store] = {}  # session folder -> what its last read kept
        self._by_id: dict[str, str] = {}  # session id -> its folder

    def roots(self) -> list[Path]:
        return list(self._roots)

    def watched(self) -> list[str]:
        owner: dict[str, str] = {}
        for root in self._roots:
            for workspace in self._workspaces.get(str(root)):
                for session in self._sessions.get(workspace):
                    for path in self._files.get(session):
                        owner[path] = session
        for cache in (self._workspaces, self._sessions, self._files):
            cache.prune()
        self._owner = owner
        self._by_id = {os.path.basename(folder): folder for folder in owner.values()}
        live = set(owner.values())
        for gone in [s for s in self._stores if s not in live]:
            del self._stores[gone]
        return list(owner)

    def owns(self, path: str) -> bool:
        return path in self._owner

    def holds(self, session_id: str) -> bool:
        """Whether a store of this session is there (read in this process or not): its record is
        the session's, so a transcript of the same id is not read. A store read with no message
        yet holds nothing."""
        folder = self._by_id.get(session_id)
        if folder is None:
            return False
        kept = self._stores.get(folder)
        return kept is None or kept.facts is not None or not kept.read

    def read(self, changed: Sequence[str]) -> ChatRead:
        out = ChatRead()
        folders: dict[str, list[str]] = {}
        for path in changed:
            if path in self._owner:
                folders.setdefault(self._owner[path], []).append(path)
        for folder, paths in folders.items():
            db = os.path.join(folder, STORE)
            try:
                facts = self._read(folder, db, out.problems)
            except DbBusy:
                out.retry += paths  # the CLI is writing: offered again next poll
                continue
            except DbError as exc:
                message = f"cannot read cursor-agent chat: {exc.message}"
                out.problems.append(Problem(exc.path, message))
                continue
            if facts is not None:
                out.facts.append(facts)
        if self._counter.failure:
            out.problems.append(Problem(AGENT, self._counter.failure))
        return out

    def _read(self, folder: str, db: str, problems: list[Problem]) -> SessionFacts | None:
        kept = self._stores.setdefault(folder, _Store())
        with open_readonly(db, self._timeout) as conn:
            if not {"meta", "blobs"} <= tables(conn):
                problems.append(Problem(db, "not a cursor-agent chat store (no meta/blobs table)"))
                return None
            meta = read_meta(conn)
            if meta is None:
                problems.append(Problem(db, "chat metadata is not readable JSON"))
                return None
            root_id = as_str(meta.get("latestRootBlobId"))
            root = _blob(conn, root_id) if root_id else None
            messages = self._messages(conn, kept, root_id, root) if root_id else []
        facts = self._facts(folder, db, meta, root, messages, problems)
        kept.facts, kept.read = facts, True
        return facts

    def _messages(
        self, conn: sqlite3.Connection, kept: _Store, root_id: str, root: bytes | None
    ) -> list[Said]:
        """Summaries of the messages under the root (already read), in order; only new blobs
        are read."""

        def visit(blob_id: str) -> tuple[Sequence[str], Sequence[Said]] | None:
            summary = kept.messages.get(blob_id)
            if summary is not None:
                return (), (summary,)
            link = kept.links.get(blob_id)
            if link is None:
                data = root if blob_id == root_id else _blob(conn, blob_id)
                if data is None:
                    return None  # a child not written (yet): the next root will have it
                if is_message(data):
                    kept.messages[blob_id] = self._said(data)
                    return (), (kept.messages[blob_id],)
                ids, embedded = children(data)
                link = kept.links[blob_id] = (ids, [self._said(m) for m in embedded])
            # A linking blob's embedded messages come before its children's.
            return link[0], link[1]

        return list(walk(root_id, visit, MAX_MESSAGES))

    def _said(self, data: bytes) -> Said:
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            return Said("unknown")
        return said(as_dict(message), self._counter)

    def _facts(
        self, folder: str, db: str, meta: dict[str, Any], root: bytes | None,
        messages: list[Said], problems: list[Problem],
    ) -> SessionFacts | None:
        said_ = tally(messages)
        if not (said_.prompts or said_.replies):
            return None  # a session with no message yet
        side = _meta_json(os.path.join(folder, META_JSON), problems)
        mtimes = [_mtime(os.path.join(folder, name)) for name in (STORE, STORE + "-wal")]
        snapshot = context_snapshot(root) if root else None
        name = as_str(side.get("title")) or as_str(meta.get("name"))
        if name and name.strip().lower() in _PLACEHOLDER_NAMES:
            name = None
        context = Context()
        if snapshot is not None:
            context = Context(tokens=snapshot.tokens, window=snapshot.window,
                              window_source="record" if snapshot.window else "unknown")  # fmt: skip
        return SessionFacts(
            key=SessionKey(AGENT, os.path.basename(folder)),
            title=short_title(name) if name else (
                short_title(said_.first_prompt) if said_.first_prompt else None),
            first_prompt=said_.first_prompt,
            cwd=as_str(meta.get("workspacePath")) or _root_workspace(root),
            model=as_str(meta.get("lastUsedModel")) or said_.model,
            started_at=_ms(meta.get("createdAt")) or _ms(side.get("createdAtMs")) or min(
                (t for t in mtimes if t), default=None),
            last_activity_at=latest(_ms(side.get("updatedAtMs")), *mtimes),
            usage=Usage(input=said_.input, output=said_.output, source="counted"),
            context=context,
            errors=Errors(tool=said_.tool_errors, last_message=said_.last_error),
            prompts=said_.prompts,
            replies=said_.replies,
            paths=(db,),
            turn_hint=said_.turn_hint,
            pending_tool=said_.pending_tool,
            files_touched=tuple(said_.files),
            keywords=top_keywords([said_.words]),
        )


def read_meta(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The session's metadata: the row keyed "0" (hex JSON), else any row that decodes."""
    rows = conn.execute("SELECT key, value FROM meta").fetchall()
    ordered = sorted(rows, key=lambda row: row[0] != "0")
    for _key, value in ordered:
        doc = decode_meta(value)
        if doc is not None and ("latestRootBlobId" in doc or "agentId" in doc):
            return doc
    return None


def _ms(value: object) -> datetime | None:
    """Epoch milliseconds, as a number or as digits (builds write both)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return to_time(value) if isinstance(value, int | float) else None


def _blob(conn: sqlite3.Connection, blob_id: str) -> bytes | None:
    row = conn.execute("SELECT data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
    if row is None or row[0] is None:
        return None
    data = row[0]
    return data.encode() if isinstance(data, str) else bytes(data)


def _root_workspace(root: bytes | None) -> str | None:
    for number, wire, value in (wire_fields(root) or []) if root else []:
        if number == _WORKSPACE_FIELD and wire == 2 and isinstance(value, bytes):
            try:
                return uri_to_path(value.decode("utf-8"))
            except UnicodeDecodeError:
                return None
    return None


def _meta_json(path: str, problems: list[Problem]) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_META_JSON + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problems.append(Problem(path, exc.strerror or str(exc)))
        return {}
    if len(data) > MAX_META_JSON:
        problems.append(Problem(path, f"larger than {MAX_META_JSON // 1024} KiB; not read"))
        return {}
    try:
        return as_dict(orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        problems.append(Problem(path, f"not JSON ({exc})"))
        return {}


def _mtime(path: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime_ns / 1e9, UTC)
    except OSError:
        return None
