"""opencode (sst/opencode): its SQLite database, and the JSON files of versions before it.

Where: opencode uses XDG paths on every OS (it resolves them with `xdg-basedir`, which falls
back to `~/.local/share` on macOS and Windows too), so the data folder is
`$XDG_DATA_HOME/opencode`, default `~/.local/share/opencode`. The database is `opencode.db`
there; a channel build writes `opencode-<channel>.db`, and `$OPENCODE_DB` names another file
(an absolute path, or a name in the data folder) — all are read. The older layout is `storage/`
in the same folder (`opencode_storage.py`).

A subagent (opencode's `task` tool) runs in a child session (`parent_id`); its tokens, cost and
errors count for the top-level session, which is the only one listed, as Claude Code's
subagents count for theirs.

Cost: opencode records its own USD cost per message. Sessions are priced from our price table
like every agent's (so agents compare); opencode's own figure is kept by `recorded_cost()`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import LiveState, Problem, SessionFacts
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import SnapshotRead, configured_roots
from llm_session_manager.core.sources.opencode_db import (
    DatabaseBusy,
    NotOpencodeDatabase,
    Signature,
    read_database,
)
from llm_session_manager.core.sources.opencode_facts import AGENT, build_facts
from llm_session_manager.core.sources.opencode_storage import LegacyStorage

_DB_NAME = re.compile(r"^opencode(?:-[A-Za-z0-9._-]+)?\.db$")
_WAL = "-wal"


def default_data_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    xdg = env.get("XDG_DATA_HOME", "").strip()
    # The XDG spec ignores a relative XDG_DATA_HOME; so does xdg-basedir's fallback.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "share"
    return [base / "opencode"]


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> OpencodeSource:
    """The source for the registry: configured data folders, else opencode's own."""
    dirs = configured_roots(agent_config, home) or default_data_dirs(env, home)
    extra: list[Path] = []
    named = env.get("OPENCODE_DB", "").strip()
    if named and named != ":memory:":
        extra = [Path(named) if os.path.isabs(named) else d / named for d in dirs]
    return OpencodeSource(dirs, extra_dbs=extra)


class OpencodeSource:
    """A SnapshotSource: the poller stats `watched()` and hands the changed files to `read()`."""

    agent = AGENT

    def __init__(self, data_dirs: Sequence[Path], extra_dbs: Sequence[Path] = ()) -> None:
        self._dirs = list(data_dirs)
        self._extra = [str(p) for p in extra_dbs]
        self._legacy = [LegacyStorage(d / "storage") for d in self._dirs]
        self._signatures: dict[str, dict[str, Signature]] = {}  # db path -> root id -> sig
        self._db_ids: set[str] = set()  # sessions a database has: its copy wins over storage/
        self._costs: dict[str, float] = {}

    def roots(self) -> Sequence[Path]:
        return [p for d in self._dirs for p in (d, d / "storage")]

    def recorded_cost(self, session_id: str) -> float | None:
        """opencode's own USD figure for a session (its messages' `cost`), when it was read."""
        return self._costs.get(session_id)

    # -- files ----------------------------------------------------------------------------

    def watched(self) -> list[str]:
        out: list[str] = []
        for db in self._databases():
            out.append(db)
            # WAL mode: new rows land in the -wal file and reach the main file only at a
            # checkpoint, so the -wal file's changes are what a live session shows.
            if os.path.exists(db + _WAL):
                out.append(db + _WAL)
        for legacy in self._legacy:
            out.extend(legacy.watched())
        return out

    def _databases(self) -> list[str]:
        found: list[str] = []
        for folder in self._dirs:
            try:
                with os.scandir(folder) as entries:
                    found += sorted(
                        e.path for e in entries if _DB_NAME.match(e.name) and e.is_file()
                    )
            except OSError:
                continue  # no opencode here: one failed listing per poll
        for path in self._extra:
            if path not in found and os.path.isfile(path):
                found.append(path)
        return found

    # -- reading --------------------------------------------------------------------------

    def read(self, changed: Sequence[str]) -> SnapshotRead:
        facts: list[SessionFacts] = []
        problems: list[Problem] = []
        retry: list[str] = []
        databases = set(self._databases())
        by_db: dict[str, list[str]] = {}
        rest: list[str] = []
        for path in changed:
            db = path[: -len(_WAL)] if path.endswith(_WAL) else path
            if db in databases:
                by_db.setdefault(db, []).append(path)
            else:
                rest.append(path)
        for db, paths in by_db.items():
            try:
                sessions, signatures = read_database(db, self._signatures.get(db, {}))
            except DatabaseBusy:
                retry += paths  # opencode is writing: read it again next poll
                continue
            except NotOpencodeDatabase as exc:
                problems.append(Problem(db, str(exc)))
                continue
            except sqlite3.DatabaseError as exc:
                problems.append(Problem(db, f"cannot read opencode database: {exc}"))
                continue
            self._signatures[db] = signatures
            self._db_ids |= set(signatures)
            for item in sessions:
                self._costs[item.row.id] = item.tally.recorded_cost
                facts.append(build_facts(item.row, item.tally, item.first_prompt, (db,)))
        for legacy in self._legacy:
            mine = [p for p in rest if _under(p, legacy.root)]
            if not mine:
                continue
            for row, tally, prompt, paths in list(legacy.read(mine)):
                if row.id in self._db_ids:
                    continue  # migrated into the database, which is newer
                self._costs[row.id] = tally.recorded_cost
                facts.append(build_facts(row, tally, prompt, paths))
            retry += legacy.unreadable
        return SnapshotRead(tuple(facts), tuple(problems), tuple(retry))

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's messages and parts, from the record its facts came from
        (ConversationReader)."""
        from llm_session_manager.core.sources.opencode_conversation import read_conversation

        return read_conversation(facts.key.session_id, facts.paths)

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live_opencode import opencode_live

        return opencode_live(processes, sessions)


def _under(path: str, root: Path) -> bool:
    return path == str(root) or path.startswith(str(root) + os.sep)
