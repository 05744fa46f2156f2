"""Cursor: conversations from the IDE's `state.vscdb` SQLite files (formats.md §3.1), the agent
transcripts under `~/.cursor/projects` (§3.2, `cursor_transcripts.py`) and the cursor-agent CLI's
chat stores under `~/.cursor/chats` (§3.3, `cursor_chats.py`).

`<user dir>/globalStorage/state.vscdb` holds the modern conversations (`cursorDiskKV`:
`composerData:<id>`, `bubbleId:<composer>:<bubble>`); each `workspaceStorage/<hash>/state.vscdb`
lists the composers of one folder (`composer.composerData`), which is the only record of which
project a modern conversation belongs to, and in older builds also holds the conversations
themselves (inline composers, and the chat tabs of `…aichat.chatdata`).

The poller hands `read()` only the files that changed, yet a change to one file can change
another file's sessions (a workspace file moves a global composer to a project). So the source
keeps a small cache per file: per workspace its folder, its composer ids and its own sessions; per
global file each composer's facts with a digest of its document, so an unchanged composer's
bubbles are not read again.

A transcript's stem is a composer id, and the IDE agent writes transcripts of conversations its
database holds too: one session, whose database record wins whole (it has the title, model,
recorded tokens and context a transcript lacks). So a transcript is read only when no database
holds its composer with messages: the cursor-agent CLI's sessions, and IDE chats missing there.
The CLI's chat store of a session wins over its transcript likewise: it has the name, the model,
the workspace path and the context the transcript lacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import LiveState, Problem, SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import SnapshotRead, configured_roots
from llm_session_manager.core.sources.cursor_chats import (
    ChatStores,
    default_chat_roots,
    is_chat_store,
)
from llm_session_manager.core.sources.cursor_db import (
    BUSY_TIMEOUT_S,
    DbBusy,
    DbError,
    digest,
    item_values,
    kv_prefix,
    load_object,
    open_readonly,
    tables,
)
from llm_session_manager.core.sources.cursor_peek import ComposerPeek
from llm_session_manager.core.sources.cursor_records import (
    bubble_from_doc,
    build_facts,
    chat_tab_facts,
    composer_info,
    header_bubble_ids,
    header_folders,
    inline_bubbles,
)
from llm_session_manager.core.sources.cursor_transcript_files import is_transcript
from llm_session_manager.core.sources.cursor_transcripts import (
    Transcripts,
    default_transcript_roots,
)
from llm_session_manager.core.sources.editor_dirs import (
    user_dirs,
    workspace_dirs,
    workspace_folder,
)
from llm_session_manager.core.sources.json_values import as_dict, as_list, as_str
from llm_session_manager.core.sources.text_tokens import TextCounter

AGENT = "cursor"
DB_NAME = "state.vscdb"
COMPOSERS_KEY = "composer.composerData"
CHAT_KEY = "workbench.panel.aichat.view.aichat.chatdata"
HEADERS_KEY = "composer.composerHeaders"
COMPOSER_PREFIX = "composerData:"


def default_user_dirs(
    env: Mapping[str, str], home: Path, platform: str | None = None
) -> list[Path]:
    return user_dirs(["Cursor"], env, home, platform)


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> CursorSource:
    """The source for the registry, from the configured roots: a folder named `projects` holds
    agent transcripts, one named `chats` the CLI's chat stores, a `.cursor` folder both; any other
    is a user dir (`…/Cursor/User`). A kind with no root configured keeps its OS default, so a
    config that moved the IDE's user dir still finds the transcripts."""
    configured = configured_roots(agent_config, home)
    transcripts = [r if r.name == "projects" else r / "projects"
                   for r in configured if r.name in ("projects", ".cursor")]  # fmt: skip
    chats = [r if r.name == "chats" else r / "chats"
             for r in configured if r.name in ("chats", ".cursor")]  # fmt: skip
    dirs = [r for r in configured if r.name not in ("projects", "chats", ".cursor")]
    return CursorSource(
        dirs or default_user_dirs(env, home),
        count_tokens=count_tokens,
        transcript_roots=transcripts or default_transcript_roots(env, home),
        chat_roots=chats or default_chat_roots(env, home),
    )


@dataclass
class _Workspace:
    folder: str | None
    heads: frozenset[str]  # composer ids this workspace lists
    own: dict[str, SessionFacts]  # conversations stored in this file


@dataclass
class _Composer:
    digest: bytes
    facts: SessionFacts | None  # None: a composer with no message yet


@dataclass
class _Global:
    composers: dict[str, _Composer] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)  # from composer.composerHeaders


def _db_files(folder: str) -> Iterator[str]:
    """state.vscdb and, while Cursor runs, its -wal (commits land there before a checkpoint)."""
    try:
        with os.scandir(folder) as entries:
            names = {e.name: e.path for e in entries if e.name.startswith(DB_NAME)}
    except OSError:
        return
    if DB_NAME in names:
        yield names[DB_NAME]
        if DB_NAME + "-wal" in names:
            yield names[DB_NAME + "-wal"]


def _is_global(db: str) -> bool:
    return os.path.basename(os.path.dirname(db)) == "globalStorage"


def _user_dir(db: str) -> str:
    levels = 2 if _is_global(db) else 3  # User/globalStorage/x or User/workspaceStorage/<h>/x
    path = db
    for _ in range(levels):
        path = os.path.dirname(path)
    return path


class CursorSource:
    agent = AGENT

    def __init__(
        self,
        dirs: Sequence[Path],
        count_tokens: Callable[[str], int] | None = None,
        busy_timeout: float = BUSY_TIMEOUT_S,
        transcript_roots: Sequence[Path] = (),
        chat_roots: Sequence[Path] = (),
    ) -> None:
        self._dirs = list(dirs)
        self._count_tokens = count_tokens
        self._timeout = busy_timeout
        self._workspaces: dict[str, _Workspace] = {}
        self._globals: dict[str, _Global] = {}
        self._transcripts = Transcripts(transcript_roots, count_tokens)
        self._chats = ChatStores(chat_roots, count_tokens, busy_timeout)
        self._global_dbs: list[str] = []
        self._peek = ComposerPeek(busy_timeout)  # global databases not read in this process

    def roots(self) -> Sequence[Path]:
        return [*self._dirs, *self._transcripts.roots(), *self._chats.roots()]

    def watched(self) -> list[str]:
        found: list[str] = []
        for user in self._dirs:
            found += _db_files(str(user / "globalStorage"))
            for folder in workspace_dirs(user):
                found += _db_files(folder)
        listed = set(found)
        # A workspace folder Cursor deleted no longer names a project for any composer.
        for db in [db for db in self._workspaces if db not in listed]:
            del self._workspaces[db]
        for db in [db for db in self._globals if db not in listed]:
            del self._globals[db]
        self._global_dbs = [db for db in found if _is_global(db) and not db.endswith("-wal")]
        self._peek.keep_only(listed)
        return found + self._transcripts.watched() + self._chats.watched()

    def read(self, changed: Sequence[str]) -> SnapshotRead:
        by_db: dict[str, list[str]] = {}
        transcripts = [path for path in changed if self._transcripts.owns(path)]
        chats = [path for path in changed if self._chats.owns(path)]
        for path in changed:
            if self._transcripts.owns(path) or self._chats.owns(path):
                continue
            db = path[: -len("-wal")] if path.endswith("-wal") else path
            by_db.setdefault(db, []).append(path)
        counter = TextCounter(self._count_tokens)
        problems: list[Problem] = []
        retry: list[str] = []
        read: list[str] = []
        for db, paths in by_db.items():
            try:
                if _is_global(db):
                    self._read_global(db, counter, problems)
                else:
                    self._read_workspace(db, counter, problems)
            except DbBusy:
                retry += paths  # Cursor is writing: the poller offers these files again next poll
                continue
            except DbError as exc:
                problems.append(Problem(exc.path, f"cannot read Cursor database: {exc.message}"))
                continue
            read.append(db)
        # Sessions are told after every file was read, so a composer read from the global file
        # gets its folder from a workspace file read in the same poll.
        out: dict[SessionKey, SessionFacts] = {}
        for db in read:
            for facts in self._sessions_of(db):
                out[facts.key] = facts
        if counter.failure:
            problems.append(Problem(AGENT, counter.failure))
        if chats:
            stores = self._chats.read(chats)
            for facts in stores.facts:
                out.setdefault(facts.key, facts)
            problems += stores.problems
            retry += stores.retry
        if not transcripts:
            return SnapshotRead(tuple(out.values()), tuple(problems), tuple(retry))
        # After the databases, so a composer read from one in this poll is known to be held.
        folders = [w.folder for w in self._workspaces.values() if w.folder]
        found = self._transcripts.read(transcripts, self._ide_holds, folders)
        for facts in found.facts:
            out.setdefault(facts.key, facts)
        return SnapshotRead(tuple(out.values()), (*problems, *found.problems),
                            (*retry, *found.retry), found.bytes_read)  # fmt: skip

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The conversation, read from the database its facts came from (ConversationReader)."""
        from llm_session_manager.core.sources.cursor_conversation import read_conversation

        if not facts.paths:
            return Conversation(unavailable="no Cursor database is known for this conversation")
        if is_chat_store(facts.paths[0]):
            from llm_session_manager.core.sources.cursor_chat_conversation import (
                read_chat_conversation,
            )

            return read_chat_conversation(facts.paths[0], self._timeout)
        if is_transcript(facts.paths[0]):
            from llm_session_manager.core.sources.cursor_transcript_conversation import (
                read_transcript_conversation,
            )

            return read_transcript_conversation(facts.paths)
        return read_conversation(facts.key.session_id, facts.paths[0], self._timeout)

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live_cursor import cursor_agent_live
        from llm_session_manager.core.live_editor import CURSOR_APPS, editor_live
        from llm_session_manager.core.live_match import merge

        found = editor_live(processes, sessions, CURSOR_APPS)
        for session_id, state in cursor_agent_live(processes, sessions).items():
            merge(found, session_id, state)
        return found

    # -- reading ------------------------------------------------------------------------

    def _read_workspace(self, db: str, counter: TextCounter, problems: list[Problem]) -> None:
        with open_readonly(db, self._timeout) as conn:
            has_items = "ItemTable" in tables(conn)
            values = item_values(conn, (COMPOSERS_KEY, CHAT_KEY)) if has_items else {}
        folder = workspace_folder(os.path.dirname(db))
        own: dict[str, SessionFacts] = {}
        heads: set[str] = set()
        composers = load_object(values.get(COMPOSERS_KEY), db, COMPOSERS_KEY, problems)
        for item in as_list(composers.get("allComposers")):
            doc = as_dict(item)
            cid = as_str(doc.get("composerId"))
            if cid is None:
                continue
            heads.add(cid)
            info = replace(composer_info(doc, cid), cwd=folder, paths=(db,))
            facts = build_facts(info, inline_bubbles(doc), counter)
            if facts is not None:
                own[cid] = facts
        chat = load_object(values.get(CHAT_KEY), db, CHAT_KEY, problems)
        for tab in as_list(chat.get("tabs")):
            facts = chat_tab_facts(as_dict(tab), folder, db, counter)
            if facts is not None:
                own[facts.key.session_id] = facts
        self._workspaces[db] = _Workspace(folder, frozenset(heads), own)

    def _read_global(self, db: str, counter: TextCounter, problems: list[Problem]) -> None:
        old = self._globals.get(db, _Global())
        fresh = _Global()
        raw_docs: dict[str, tuple[bytes, bytes | str]] = {}
        raw_bubbles: dict[str, list[tuple[str, bytes | str]]] = {}
        with open_readonly(db, self._timeout) as conn:
            names = tables(conn)
            headers = item_values(conn, (HEADERS_KEY,)) if "ItemTable" in names else {}
            rows = kv_prefix(conn, COMPOSER_PREFIX) if "cursorDiskKV" in names else []
            for key, value in rows:
                cid = key[len(COMPOSER_PREFIX):]
                stamp = digest(value)
                known = old.composers.get(cid)
                if known is not None and known.digest == stamp:
                    fresh.composers[cid] = known  # unchanged document: keep, skip its bubbles
                    continue
                raw_docs[cid] = (stamp, value)
                raw_bubbles[cid] = kv_prefix(conn, f"bubbleId:{cid}:")
        # Parsed after the connection is closed, so no lock is held longer than the reads.
        heads = load_object(headers.get(HEADERS_KEY), db, HEADERS_KEY, problems)
        fresh.folders = header_folders(heads)
        for cid, (stamp, value) in raw_docs.items():
            doc = load_object(value, db, f"{COMPOSER_PREFIX}{cid}", problems)
            info = replace(composer_info(doc, cid), paths=(db,))
            ids = header_bubble_ids(doc)
            if ids is None or not ids:
                bubbles = inline_bubbles(doc)
            else:
                by_id = {key.rsplit(":", 1)[-1]: val for key, val in raw_bubbles[cid]}
                parsed = (bubble_from_doc(load_object(by_id[i], db, i, problems))
                          for i in ids if i in by_id)
                bubbles = [b for b in parsed if b is not None]
            fresh.composers[cid] = _Composer(stamp, build_facts(info, bubbles, counter))
        self._globals[db] = fresh
        self._peek.forget(db)

    def _ide_holds(self, cid: str) -> bool | None:
        """Whether an IDE database (or the CLI's chat store) holds the composer with its
        messages; None when a database that must be asked is busy."""
        if self._chats.holds(cid):
            return True
        if any(cid in workspace.own for workspace in self._workspaces.values()):
            return True
        for db in self._global_dbs:
            cache = self._globals.get(db)
            if cache is not None:
                composer = cache.composers.get(cid)
                if composer is not None and composer.facts is not None:
                    return True
                continue
            try:
                if self._peek.has_messages(db, cid):
                    return True
            except DbBusy:
                return None
            except DbError:
                continue  # unreadable: reading it says why
        return False

    # -- which sessions a read changed --------------------------------------------------

    def _sessions_of(self, db: str) -> Iterator[SessionFacts]:
        user = _user_dir(db)
        globals_ = {g: c for g, c in self._globals.items() if _user_dir(g) == user}
        in_global = {cid for c in globals_.values() for cid, comp in c.composers.items()
                     if comp.facts is not None}
        if _is_global(db):
            for cid, composer in globals_[db].composers.items():
                if composer.facts is not None:
                    yield replace(composer.facts, cwd=self._folder_of(user, cid, globals_[db]))
            return
        workspace = self._workspaces[db]
        for cid, facts in workspace.own.items():
            if cid not in in_global:  # the global document is the newer record of a composer
                yield facts
        for cache in globals_.values():
            for cid in workspace.heads & cache.composers.keys():
                found = cache.composers[cid].facts
                if found is not None:
                    yield replace(found, cwd=self._folder_of(user, cid, cache))

    def _folder_of(self, user: str, cid: str, cache: _Global) -> str | None:
        for db, workspace in self._workspaces.items():
            if cid in workspace.heads and workspace.folder and _user_dir(db) == user:
                return workspace.folder
        return cache.folders.get(cid)
