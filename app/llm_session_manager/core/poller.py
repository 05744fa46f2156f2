"""One poll: records on disk + live processes -> sessions -> health -> store -> Snapshot.

The poller owns the per-file cursors and accumulators. It stats every file the sources list,
reads only appended bytes of the files that changed, rebuilds only the sessions whose files
changed, and takes every other session's facts from memory (or, in a fresh process, from the
store), so a poll with nothing new costs a stat per file and one process-table scan.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_session_manager.config import Config
from llm_session_manager.core import accounting, health
from llm_session_manager.core.advice import Advisor
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.models import (
    LiveState,
    Problem,
    Session,
    SessionFacts,
    SessionKey,
    Snapshot,
    UsageSample,
)
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import (
    FileAccumulator,
    SnapshotSource,
    Source,
    TrackedFile,
)
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

if TYPE_CHECKING:
    from llm_session_manager.paths import AppPaths
    from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)


@dataclass
class _File:
    """What the poller knows of one record file between polls."""

    tracked: TrackedFile
    agent: str
    cursor: Cursor
    acc: FileAccumulator | None = None  # None: not loaded yet (lazy from the store)
    dirty: bool = False  # cursor or state changed since the last save


@dataclass
class _UserData:
    tags: dict[SessionKey, tuple[str, ...]] = field(default_factory=dict)
    projects: dict[SessionKey, str] = field(default_factory=dict)
    hidden: set[SessionKey] = field(default_factory=set)
    imported: set[SessionKey] = field(default_factory=set)


@dataclass(frozen=True)
class PollStats:
    bytes_read: int
    files_read: int
    files_seen: int
    sessions_rebuilt: int


class Poller:
    def __init__(
        self,
        sources: Sequence[Source | SnapshotSource],
        store: Store | None,
        config: Config,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        scan_processes: Callable[[], ProcessTable] = ProcessTable.scan,
    ) -> None:
        self._sources = list(sources)
        self._store = store
        self._config = config
        self._clock = clock
        self._scan_processes = scan_processes
        self._files: dict[str, _File] = {}
        self._facts: dict[SessionKey, SessionFacts] = {}
        self._user = _UserData()
        self._sessions: dict[SessionKey, Session] = {}  # as the last poll assembled them
        self._loaded = False
        self._unsaved: set[SessionKey] = set()  # facts not yet written (e.g. the db was locked)
        self._store_problem: Problem | None = None
        self._advisor = Advisor(store)
        self.last_stats = PollStats(0, 0, 0, 0)

    @property
    def sources(self) -> list[Source | SnapshotSource]:
        return list(self._sources)

    @property
    def store(self) -> Store | None:
        return self._store

    @property
    def config(self) -> Config:
        return self._config

    def session(self, key: SessionKey) -> Session | None:
        """The session as the last poll assembled it; None if unknown or not polled yet."""
        return self._sessions.get(key)

    def source_for(self, agent: str) -> Source | SnapshotSource | None:
        return next((s for s in self._sources if s.agent == agent), None)

    def put_imported(self, facts: SessionFacts) -> None:
        """An import was stored: show it from the next poll on, as imported."""
        self._facts[facts.key] = facts
        self._user.imported.add(facts.key)
        self._unsaved.discard(facts.key)  # never save it back as not imported

    def set_config(self, config: Config) -> None:
        """A reload replaces the config; facts stay, judgement is redone on the next poll."""
        self._config = config

    # -- the poll -------------------------------------------------------------------------

    def poll_once(self, cancelled: Callable[[], bool] = lambda: False) -> Snapshot:
        problems: list[Problem] = []
        if not self._loaded:
            self._load_from_store(problems)
        now = self._clock()
        dirty: set[SessionKey] = set()
        bytes_read = files_read = files_seen = 0
        max_line = int(self._config.max_line_mb * (1 << 20))

        for source in self._sources:
            if cancelled():
                break
            if isinstance(source, SnapshotSource):
                seen, changed = self._read_snapshot_source(source, problems)
                files_seen += seen
                files_read += len(changed)
                dirty |= changed
                continue
            try:
                discovered = source.discover()
            except OSError as exc:
                problems.append(Problem(str(exc.filename or source.agent), _os_message(exc)))
                continue
            seen_paths: set[str] = set()
            for tracked in discovered:
                if cancelled():
                    break
                seen_paths.add(tracked.path)
                files_seen += 1
                result = self._read_file(source, tracked, max_line, problems)
                if result is not None:
                    bytes_read += result
                    files_read += 1
                    dirty.add(SessionKey(source.agent, tracked.session_id))
            dirty |= self._forget_missing(source.agent, seen_paths)

        # An imported session keeps the facts it was imported with: files that carry its id
        # (the same session on this machine) neither rebuild it nor reset its imported flag.
        dirty -= self._user.imported
        by_agent = {source.agent: source for source in self._sources}
        groups: dict[SessionKey, list[_File]] = {}
        if dirty:  # one pass over the files, not one per rebuilt session
            for info in self._files.values():
                key = SessionKey(info.agent, info.tracked.session_id)
                if key in dirty:
                    groups.setdefault(key, []).append(info)
        for key in sorted(dirty):
            source = by_agent[key.agent]
            if isinstance(source, SnapshotSource):
                continue  # its facts were replaced whole by the read
            facts = self._build(source, key, groups.get(key, []), problems)
            if facts is not None:
                self._facts[key] = facts

        live = self._live_states(problems)
        sessions = self._assemble(live, now)
        self._sessions = {s.key: s for s in sessions}
        self._persist(dirty, sessions, now, problems)
        if self._store_problem is not None:
            problems.append(self._store_problem)
        self.last_stats = PollStats(bytes_read, files_read, files_seen, len(dirty))
        # After _persist, so a first poll's advice sees the samples it just wrote; never raises.
        advice = self._advisor.advise(sessions, self._config, now, problems)
        live_sessions = [s for s in sessions if s.state in ("active", "waiting", "idle")]
        return Snapshot(
            taken_at=now,
            sessions=tuple(sessions),
            problems=tuple(problems),
            level=health.aggregate_level(live_sessions),
            recommendations=advice.recommendations,
            usage_windows=advice.usage_windows,
            bytes_read=bytes_read,
            files_read=files_read,
            files_seen=files_seen,
        )

    # -- reading --------------------------------------------------------------------------

    def _read_file(
        self, source: Source, tracked: TrackedFile, max_line: int, problems: list[Problem]
    ) -> int | None:
        """Read what was appended to one file; None when it did not change (one stat)."""
        try:
            stat = FileStat.of(tracked.path)
        except OSError as exc:
            problems.append(Problem(tracked.path, _os_message(exc)))
            return None
        known = self._files.get(tracked.path)
        if known is not None and known.cursor.unchanged(stat):
            return None
        if known is None or known.tracked != tracked:
            known = _File(tracked, source.agent, Cursor())
            self._files[tracked.path] = known
        if known.cursor.must_restart(stat):
            known.cursor, known.acc = Cursor(), None
            log.info("re-reading %s: truncated or replaced", tracked.path)
        if known.acc is None:
            known.acc = self._restore(source, known) if known.cursor.offset else None
            if known.acc is None:
                known.cursor, known.acc = Cursor(), source.new_accumulator(tracked)
        try:
            result = read_appended(
                tracked.path, known.cursor, stat, known.acc.feed, max_line_bytes=max_line
            )
        except OSError as exc:
            problems.append(Problem(tracked.path, _os_message(exc)))
            return None
        if result.bad_line_count:
            for bad in result.bad_lines:
                problems.append(Problem(f"{tracked.path}:{bad.line_number}", bad.message))
            hidden = result.bad_line_count - len(result.bad_lines)
            if hidden > 0:
                problems.append(Problem(tracked.path, "more bad lines skipped", hidden))
        known.cursor = result.cursor
        known.dirty = True
        return result.bytes_read

    def _read_snapshot_source(
        self, source: SnapshotSource, problems: list[Problem]
    ) -> tuple[int, set[SessionKey]]:
        """Stat the watched files; re-read the changed ones whole (read-only, by the source)."""
        try:
            watched = source.watched()
        except OSError as exc:
            problems.append(Problem(str(exc.filename or source.agent), _os_message(exc)))
            return 0, set()
        changed: list[str] = []
        stats: dict[str, FileStat] = {}
        for path in watched:
            try:
                stat = FileStat.of(path)
            except OSError as exc:
                problems.append(Problem(path, _os_message(exc)))
                continue
            known = self._files.get(path)
            if known is None or not known.cursor.unchanged(stat):
                changed.append(path)
                stats[path] = stat
        gone = self._forget_missing(source.agent, set(watched))
        if not changed:
            return len(watched), gone
        try:
            result = source.read(changed)
        except OSError as exc:
            problems.append(Problem(changed[0], _os_message(exc)))
            return len(watched), gone
        problems.extend(result.problems)
        dirty = set(gone)
        for facts in result.facts:
            self._facts[facts.key] = facts
            dirty.add(facts.key)
        for path in changed:
            if path in result.retry:
                continue  # busy now: keep the old stat so the next poll reads it again
            st = stats[path]
            cursor = Cursor(st.dev, st.ino, st.size, st.mtime_ns, st.size, 0)
            self._files[path] = _File(
                TrackedFile(path, "", "snapshot"), source.agent, cursor, dirty=True
            )
        return len(watched), dirty

    def _restore(self, source: Source, known: _File) -> FileAccumulator | None:
        """The accumulator saved with the cursor; None (re-read from 0) when it cannot be used."""
        if self._store is None:
            return None
        try:
            state = self._store.load_cursor_state(known.tracked.path)
            if state is None:
                return None
            return source.restore(known.tracked, state)
        except (StoreError, ValueError, KeyError, TypeError) as exc:
            log.warning("cannot restore state of %s (%s); re-reading", known.tracked.path, exc)
            return None

    def _forget_missing(self, agent: str, seen: set[str]) -> set[SessionKey]:
        """Files the agent deleted: drop their cursors; their sessions keep the last figures."""
        gone = [p for p, f in self._files.items() if f.agent == agent and p not in seen]
        affected: set[SessionKey] = set()
        for path in gone:
            info = self._files.pop(path)
            if info.tracked.role == "snapshot":
                continue  # a snapshot file holds many sessions; they keep their last facts
            key = SessionKey(agent, info.tracked.session_id)
            if any(f.agent == agent and f.tracked.session_id == key.session_id
                   for f in self._files.values()):
                affected.add(key)  # other files of the session remain: rebuild from them
        if gone and self._store is not None:
            try:
                self._store.delete_cursors(gone)
            except StoreError as exc:
                self._store_problem = Problem(exc.path, str(exc))
        return affected

    def _build(
        self, source: Source, key: SessionKey, files: list[_File], problems: list[Problem]
    ) -> SessionFacts | None:
        members: list[tuple[TrackedFile, FileAccumulator]] = []
        for info in files:
            if info.acc is None:
                info.acc = self._restore(source, info)
                if info.acc is None:  # cannot restore: read this file again next poll
                    info.cursor = Cursor()
                    info.acc = source.new_accumulator(info.tracked)
                    self._refeed(info, problems)
            members.append((info.tracked, info.acc))
        if not members:
            return None
        members.sort(key=lambda m: (m[0].role != "main", m[0].path))
        try:
            return source.build(key, members)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(members[0][0].path, f"cannot build session: {exc}"))
            return None

    def _refeed(self, info: _File, problems: list[Problem]) -> None:
        assert info.acc is not None
        try:
            stat = FileStat.of(info.tracked.path)
            info.cursor = read_appended(info.tracked.path, Cursor(), stat, info.acc.feed).cursor
            info.dirty = True
        except OSError as exc:
            problems.append(Problem(info.tracked.path, _os_message(exc)))

    # -- live state, judgement, persistence ----------------------------------------------

    def _live_states(self, problems: list[Problem]) -> dict[SessionKey, LiveState]:
        try:
            processes = self._scan_processes()
        except Exception as exc:  # the process table is an OS boundary; never fail a poll on it
            problems.append(Problem("processes", f"cannot list processes: {exc}"))
            return {}
        states: dict[SessionKey, LiveState] = {}
        for source in self._sources:
            facts = {  # an imported session has no process here: never match one to it
                k.session_id: f for k, f in self._facts.items()
                if k.agent == source.agent and k not in self._user.imported
            }
            try:
                found = source.live(processes, facts)
            except (OSError, ValueError) as exc:
                problems.append(Problem(source.agent, f"cannot map live processes: {exc}"))
                continue
            for session_id, state in found.items():
                states[SessionKey(source.agent, session_id)] = state
        return states

    def _assemble(self, live: Mapping[SessionKey, LiveState], now: datetime) -> list[Session]:
        config = self._config
        out: list[Session] = []
        for key, raw in self._facts.items():
            facts = accounting.apply(raw, config)
            state = live.get(key, LiveState())
            out.append(
                Session(
                    facts=facts,
                    live=state,
                    project=self._user.projects.get(key) or _project_of(facts.cwd),
                    tags=self._user.tags.get(key, ()),
                    cost_usd=accounting.estimate_cost(facts, config),
                    health=health.assess(facts, state, config, now),
                    imported=key in self._user.imported,
                    hidden=key in self._user.hidden,
                )
            )
        out.sort(key=_recency, reverse=True)
        return out

    def _persist(
        self,
        dirty: Iterable[SessionKey],
        sessions: Sequence[Session],
        now: datetime,
        problems: list[Problem],
    ) -> None:
        if self._store is None:
            return
        from llm_session_manager.store.repo import StoredCursor

        self._unsaved |= set(dirty)
        changed = [self._facts[k] for k in self._unsaved if k in self._facts]
        cursors: list[tuple[StoredCursor, dict[str, Any] | None]] = []
        for info in self._files.values():
            if not info.dirty:
                continue
            stored = StoredCursor(
                info.tracked.path, info.agent, info.tracked.session_id, info.tracked.role,
                info.cursor,
            )
            cursors.append((stored, info.acc.dump() if info.acc is not None else None))
        by_key = {s.key: s for s in sessions}
        samples = [
            UsageSample(
                key=k,
                at=now,
                total_tokens=by_key[k].facts.usage.total,
                context_tokens=by_key[k].facts.context.tokens,
                window=by_key[k].facts.context.window,
            )
            for k in dirty
            if k in by_key
        ]
        try:
            self._store.save_facts(changed)
            self._store.save_cursors(cursors)
            self._store.add_samples(samples)
        except StoreError as exc:
            # Polling goes on without persistence; the cursors stay dirty and are saved later.
            self._store_problem = Problem(exc.path, str(exc))
            return
        self._store_problem = None
        self._unsaved.clear()
        for info in self._files.values():
            info.dirty = False

    def _load_from_store(self, problems: list[Problem]) -> None:
        self._loaded = True
        if self._store is None:
            return
        try:
            stored = self._store.load_sessions()
            for key, item in stored.items():
                self._facts[key] = item.facts
                if item.hidden:
                    self._user.hidden.add(key)
                if item.imported:
                    self._user.imported.add(key)
            for source in self._sources:
                for path, cur in self._store.load_cursors(source.agent).items():
                    tracked = TrackedFile(path, cur.session_id, cur.role)
                    self._files[path] = _File(tracked, source.agent, cur.cursor)
            self.reload_user_data()
        except StoreError as exc:
            problems.append(Problem(exc.path, str(exc)))

    def reload_user_data(self) -> None:
        """Tags, projects and flags set through the store (CLI or UI commands)."""
        if self._store is None:
            return
        self._user.tags = self._store.tags_by_session()
        self._user.projects = self._store.projects_by_session()
        flags = self._store.session_flags()
        self._user.hidden = {k for k, (hidden, _) in flags.items() if hidden}
        self._user.imported = {k for k, (_, imported) in flags.items() if imported}


def _recency(session: Session) -> datetime:
    return session.facts.last_activity_at or datetime.min.replace(tzinfo=UTC)


def _project_of(cwd: str | None) -> str | None:
    if not cwd:
        return None
    name = os.path.basename(cwd.rstrip("/\\"))
    return name or cwd


def _os_message(exc: OSError) -> str:
    return exc.strerror or str(exc)


def build_poller(
    paths: AppPaths,
    config: Config,
    env: Mapping[str, str],
    home: Path,
    *,
    store: Store | None = None,
) -> Poller:
    """The poller for a user's home: sources from the config, the store at the app's paths."""
    from llm_session_manager.core.sources.registry import build_sources
    from llm_session_manager.core.tokens import count_tokens

    if store is None:
        from llm_session_manager.store.repo import Store

        store = Store.open(paths.db_path)
    return Poller(build_sources(config, env, home, count_tokens=count_tokens), store, config)
