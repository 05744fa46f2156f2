"""One poll: records on disk + live processes -> sessions -> health -> store -> Snapshot.

The poller keeps the sessions; its FileIndex (core.file_index) keeps the per-file cursors, stats
every file the sources list and reads only the bytes appended since. Only the sessions whose files
changed are rebuilt; every other session's facts come from memory (or, in a fresh process, from
the store), so a poll with nothing new costs a stat per file and one process-table scan.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from llm_session_manager.config import Config
from llm_session_manager.core import health
from llm_session_manager.core.assembly import JUDGEMENT_REFRESH, Assembler, UserData
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.file_index import FileIndex
from llm_session_manager.core.models import (
    LIVE_STATES,
    HealthLevel,
    LiveState,
    Problem,
    Recommendation,
    Session,
    SessionFacts,
    SessionKey,
    Snapshot,
    TokensToday,
    UsageSample,
    UsageWindow,
)
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.shared_history import reconcile
from llm_session_manager.core.sources.base import (
    OutdatedFacts,
    SharedHistory,
    SnapshotSource,
    Source,
)

if TYPE_CHECKING:
    from llm_session_manager.core.advice import Advice, Advisor
    from llm_session_manager.paths import AppPaths
    from llm_session_manager.store.repo import Store

log = logging.getLogger(__name__)


PRUNE_EVERY = timedelta(hours=1)


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
        # isinstance against a runtime-checkable Protocol inspects every member: ask once.
        self._line_sources: dict[str, Source] = {
            s.agent: s for s in sources if not isinstance(s, SnapshotSource)
        }
        self._outdating: list[OutdatedFacts] = [
            s for s in self._line_sources.values() if isinstance(s, OutdatedFacts)
        ]
        self._sharing: list[SharedHistory] = [
            s for s in self._line_sources.values() if isinstance(s, SharedHistory)
        ]
        self._store = store
        self._config = config
        self._clock = clock
        self._scan_processes = scan_processes
        self._index = FileIndex(store)
        self._facts: dict[SessionKey, SessionFacts] = {}
        # Bumped whenever _facts changes: what was derived from all of them (the facts grouped by
        # agent, the assembled list) is reused while it stands still, as it does on most polls.
        self._facts_version = 0
        self._by_agent: tuple[tuple[int, int], dict[str, dict[str, SessionFacts]]] | None = None
        self._user = UserData()
        self._sessions: dict[SessionKey, Session] = {}  # as the last poll assembled them
        self._sessions_from: list[Session] | None = None
        self._level: HealthLevel | None = None  # the worst level of the live sessions
        self._assembler = Assembler()
        self._last_live: Mapping[SessionKey, LiveState] = {}
        self._last_user_version = -1
        self._advice: tuple[datetime, Config, Advice] | None = None
        self._pruned_at: datetime | None = None
        self._loaded = False
        self._unsaved: set[SessionKey] = set()  # facts not yet written (e.g. the db was locked)
        self._store_problem: Problem | None = None
        self._advisor: Advisor | None = None  # made on the first poll that advises
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
        self._facts_version += 1
        self._user.imported.add(facts.key)
        self._user.version += 1
        self._unsaved.discard(facts.key)  # never save it back as not imported

    def set_config(self, config: Config) -> None:
        """A reload replaces the config; facts stay, judgement is redone on the next poll."""
        self._config = config

    # -- the poll -------------------------------------------------------------------------

    def poll_once(
        self, cancelled: Callable[[], bool] = lambda: False, *, advise: bool = True
    ) -> Snapshot:
        """One poll. `advise=False` leaves recommendations and usage windows out (a CLI command
        that shows neither need not compute them)."""
        problems: list[Problem] = []
        if not self._loaded:
            self._load_from_store(problems)
        now = self._clock()
        max_line = int(self._config.max_line_mb * (1 << 20))
        changes = self._index.read_changes(self._sources, max_line, problems, cancelled)
        # An imported session keeps the facts it was imported with: files that carry its id
        # (the same session on this machine) neither rebuild it nor reset its imported flag.
        dirty = (changes.dirty | self._outdated()) - self._user.imported
        for replaced in changes.replaced:
            if replaced.key in dirty:
                self._facts[replaced.key] = replaced
                self._facts_version += 1
        groups = self._index.members(dirty)
        for key in sorted(dirty):
            source = self._line_sources.get(key.agent)
            if source is None:
                continue  # a snapshot source's facts were replaced whole by the read
            facts = self._index.build(source, key, groups.get(key, []), problems)
            if facts is not None:
                self._facts[key] = facts
                self._facts_version += 1
        for sharing in self._sharing:
            found = reconcile(sharing, self._line_sources[sharing.agent], self._index,
                              self._facts, dirty, self._user.imported, problems)  # fmt: skip
            # Only what moved is saved and sampled: a parent stays as it was while its fork runs.
            moved = {k: f for k, f in found.items() if self._facts.get(k) != f}
            if moved:
                self._facts.update(moved)
                self._facts_version += 1
                dirty |= moved.keys()

        live = self._live_states(problems)
        sessions = self._assembler.assemble(self._facts, self._facts_version, self._user, live,
                                            self._config, now)
        same_as_last = not dirty and live == self._last_live and self._user.version == (
            self._last_user_version
        )
        self._last_live, self._last_user_version = live, self._user.version
        if sessions is not self._sessions_from:  # a list reused whole maps and rates as it did
            self._sessions = {s.key: s for s in sessions}
            self._sessions_from = sessions
            self._level = health.aggregate_level(
                s for s in sessions if s.state in LIVE_STATES
            )
        self._persist(dirty, now, problems)
        for problem in (self._store_problem, self._index.store_problem):
            if problem is not None:
                problems.append(problem)
        self._index.store_problem = None
        bytes_read, files_read = changes.bytes_read, changes.files_read
        files_seen = changes.files_seen
        self.last_stats = PollStats(bytes_read, files_read, files_seen, len(dirty))
        # After _persist, so a first poll's advice sees the samples it just wrote; never raises.
        # With nothing new, the last advice stands for a while: it changes only with the clock.
        cached = self._advice
        recommendations: tuple[Recommendation, ...] = ()
        windows: tuple[UsageWindow, ...] = ()
        today: TokensToday | None = None
        if advise:
            if not (same_as_last and cached and cached[1] is self._config
                    and now - cached[0] < JUDGEMENT_REFRESH):
                cached = (now, self._config, self._advisor_for().advise(
                    sessions, self._config, now, problems))
                self._advice = cached
            recommendations, windows = cached[2].recommendations, cached[2].usage_windows
            today = cached[2].today
        return Snapshot(
            taken_at=now,
            sessions=tuple(sessions),
            problems=tuple(problems),
            level=self._level,
            recommendations=recommendations,
            usage_windows=windows,
            today=today,
            bytes_read=bytes_read,
            files_read=files_read,
            files_seen=files_seen,
        )

    def _outdated(self) -> set[SessionKey]:
        """Sessions a source must build again though none of their files changed."""
        found: set[SessionKey] = set()
        for source in self._outdating:
            try:
                stale = source.outdated(self._facts_by_agent().get(source.agent, {}))
            except (OSError, ValueError) as exc:
                log.warning("cannot tell outdated %s sessions: %s", source.agent, exc)
                continue
            found |= {SessionKey(source.agent, sid) for sid in stale}
        return found

    def _advisor_for(self) -> Advisor:
        # Imported on first use: recommendations and usage windows are for the commands (and the
        # app) that show them, and `list` starts faster without them.
        if self._advisor is None:
            from llm_session_manager.core.advice import Advisor

            self._advisor = Advisor(self._store)
        return self._advisor

    # -- live state, judgement, persistence ----------------------------------------------

    def _live_states(self, problems: list[Problem]) -> dict[SessionKey, LiveState]:
        try:
            processes = self._scan_processes()
        except Exception as exc:  # the process table is an OS boundary; never fail a poll on it
            problems.append(Problem("processes", f"cannot list processes: {exc}"))
            return {}
        states: dict[SessionKey, LiveState] = {}
        by_agent = self._facts_by_agent()
        for source in self._sources:
            try:
                found = source.live(processes, by_agent.get(source.agent, {}))
            except (OSError, ValueError) as exc:
                problems.append(Problem(source.agent, f"cannot map live processes: {exc}"))
                continue
            for session_id, state in found.items():
                states[SessionKey(source.agent, session_id)] = state
        return states

    def _facts_by_agent(self) -> dict[str, dict[str, SessionFacts]]:
        """Each agent's facts by session id. An imported session has no process here, so it is
        left out: a process is never matched to it."""
        version = (self._facts_version, self._user.version)
        if self._by_agent is None or self._by_agent[0] != version:
            grouped: dict[str, dict[str, SessionFacts]] = {}
            imported = self._user.imported
            for key, facts in self._facts.items():
                if key not in imported:
                    grouped.setdefault(key.agent, {})[key.session_id] = facts
            self._by_agent = (version, grouped)
        return self._by_agent[1]

    def _persist(
        self,
        dirty: Iterable[SessionKey],
        now: datetime,
        problems: list[Problem],
    ) -> None:
        if self._store is None:
            return
        from llm_session_manager.store.documents import Documents

        self._unsaved |= set(dirty)
        changed = [self._facts[k] for k in self._unsaved if k in self._facts]
        cursors = self._index.unsaved()
        file_problems = [p for p in problems if _is_file_problem(p)]
        by_key = self._sessions
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
            # Bad lines are seen once, when read; `info` lists them from here across runs.
            Documents(self._store).record_file_problems(file_problems, now)
        except StoreError as exc:
            # Polling goes on without persistence; the cursors stay dirty and are saved later.
            self._store_problem = Problem(exc.path, str(exc))
            return
        self._store_problem = None
        self._unsaved.clear()
        self._index.mark_saved()
        self._prune_history(now)

    def _prune_history(self, now: datetime) -> None:
        """Usage samples grow with every change of an active session; keep `history_days`."""
        if self._store is None or (self._pruned_at and now - self._pruned_at < PRUNE_EVERY):
            return
        self._pruned_at = now
        try:
            self._store.prune_samples(now - timedelta(days=self._config.history_days))
        except StoreError as exc:
            log.warning("cannot prune usage history: %s", exc)

    def _load_from_store(self, problems: list[Problem]) -> None:
        self._loaded = True
        if self._store is None:
            return
        try:
            stored = self._store.load_sessions()
            self._facts_version += 1
            for key, item in stored.items():
                self._facts[key] = item.facts
                if item.hidden:
                    self._user.hidden.add(key)
                if item.imported:
                    self._user.imported.add(key)
            # Before the cursors are loaded: after an upgrade that reads the records differently,
            # there are none, and every file is read again once.
            from llm_session_manager.store.revision import reread_if_outdated

            reread_if_outdated(self._store)
            self._index.load([source.agent for source in self._sources])
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
        self._user.version += 1


def _is_file_problem(problem: Problem) -> bool:
    """A problem with a record file ("path" or "path:line"), worth keeping for `info`."""
    path, _, line = problem.where.rpartition(":")
    if not (path and line.isdigit()):
        path = problem.where
    return os.path.isabs(path)


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
