"""The record files the poller follows: their cursors, their accumulators, what changed.

One `FileIndex` per poller. A poll asks it to `read_changes()` from every source: an unchanged
file costs one `stat` (none on Linux once inotify shows its folder had no event for it, see
core.change_watch), a grown one is read from its offset, a shrunk or replaced one from 0, and a
snapshot source's changed files are handed to the source to re-read whole. Accumulators are loaded
from the store only when their file changes, so a warm start reads no saved state at all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from llm_session_manager.core.change_watch import ChangeWatch, Stamp
from llm_session_manager.core.errors import StoreError
from llm_session_manager.core.fresh_read import FreshJob, read_fresh
from llm_session_manager.core.models import Problem, SessionFacts, SessionKey
from llm_session_manager.core.sources.base import (
    FileAccumulator,
    SnapshotSource,
    Source,
    TrackedFile,
)
from llm_session_manager.core.tail import Cursor, FileStat, TailResult, read_appended

if TYPE_CHECKING:
    from llm_session_manager.store.repo import Store, StoredCursor

log = logging.getLogger(__name__)


@dataclass
class TrackedState:
    """What is known of one record file between polls."""

    tracked: TrackedFile
    agent: str
    cursor: Cursor  # set through FileIndex._set_cursor, which keeps the index's stamp with it
    acc: FileAccumulator | None = None  # None: not loaded yet (lazy from the store)
    dirty: bool = False  # cursor or state changed since the last save

    @property
    def key(self) -> SessionKey:
        return SessionKey(self.agent, self.tracked.session_id)


@dataclass
class Changes:
    """What one pass over the sources found."""

    dirty: set[SessionKey] = field(default_factory=set)
    replaced: list[SessionFacts] = field(default_factory=list)  # from snapshot sources, whole
    bytes_read: int = 0
    files_read: int = 0
    files_seen: int = 0


class FileIndex:
    def __init__(self, store: Store | None) -> None:
        self._store = store
        self._files: dict[str, TrackedState] = {}
        # Each tracked file's cursor as (size, mtime_ns, ino, dev), the stat it was read at, kept
        # apart so the warm pass compares a stat with it without touching the states (reaching
        # their memory after each stat was a fifth of the pass). Always equal to
        # `_stamp(self._files[path].cursor)`: cursors are set through `_put` and `_set_cursor`.
        self._stamps: dict[str, Stamp] = {}
        # The paths of `_files` by agent, so that telling which files an agent deleted costs a
        # set comparison rather than a pass over every agent's files (see `_put`).
        self._by_agent: dict[str, set[str]] = {}
        self._snapshot_kind: dict[int, tuple[object, bool]] = {}
        # Whether any state is dirty: every poll asks, and most polls change nothing.
        self._any_dirty = False
        self._watch = ChangeWatch()
        self._cut_short = False  # this pass left files of a source unvisited (cancelled)
        self.store_problem: Problem | None = None

    def close(self) -> None:
        """Release the inotify descriptor now (garbage collection releases it too)."""
        self._watch.close()

    # -- loading and saving -----------------------------------------------------------------

    def load(self, agents: Sequence[str]) -> None:
        """Cursors saved by an earlier run (without their state: that waits for a change)."""
        if self._store is None:
            return
        for agent in agents:
            for path, cur in self._store.load_cursors(agent).items():
                tracked = TrackedFile(path, cur.session_id, cur.role)
                self._put(TrackedState(tracked, agent, cur.cursor))

    def unsaved(self) -> list[tuple[StoredCursor, dict[str, Any] | None]]:
        if not self._any_dirty:
            return []
        from llm_session_manager.store.repo import StoredCursor

        return [
            (
                StoredCursor(f.tracked.path, f.agent, f.tracked.session_id, f.tracked.role,
                             f.cursor),
                f.acc.dump() if f.acc is not None else None,
            )
            for f in self._files.values()
            if f.dirty
        ]  # fmt: skip

    def mark_saved(self) -> None:
        if not self._any_dirty:
            return
        for info in self._files.values():
            info.dirty = False
        self._any_dirty = False

    # -- one pass ---------------------------------------------------------------------------

    def read_changes(
        self,
        sources: Sequence[Source | SnapshotSource],
        max_line: int,
        problems: list[Problem],
        cancelled: Callable[[], bool],
    ) -> Changes:
        changes = Changes()
        fresh: list[tuple[FreshJob, TrackedState]] = []  # files to read from their first byte
        watch = self._watch if self._watch.begin_pass(cold=not self._files) else None
        self._cut_short = False
        for source in sources:
            if cancelled():
                self._cut_short = True
                break
            if self._is_snapshot(source):
                self._read_snapshot_source(cast(SnapshotSource, source), changes, problems)
                continue
            self._read_line_source(
                cast(Source, source), max_line, problems, cancelled, changes, fresh, watch
            )
        if watch is not None:
            watch.end_pass(complete=not self._cut_short)
        reads = read_fresh([job for job, _ in fresh], max_line)
        for (job, known), read in zip(fresh, reads, strict=True):
            if read.error is not None or read.acc is None or read.result is None:
                problems.append(Problem(job.tracked.path, _os_message(read.error or OSError())))
                continue
            known.acc = read.acc
            self._apply(known, read.result, changes, problems)
        return changes

    def _read_line_source(
        self,
        source: Source,
        max_line: int,
        problems: list[Problem],
        cancelled: Callable[[], bool],
        changes: Changes,
        fresh: list[tuple[FreshJob, TrackedState]],
        watch: ChangeWatch | None,
    ) -> None:
        """Stat every file the source lists (but those `watch` shows unchanged); read what was
        appended to the changed ones, and leave those to read from their first byte in `fresh`."""
        try:
            discovered = source.discover()
        except OSError as exc:
            problems.append(Problem(str(exc.filename or source.agent), _os_message(exc)))
            self._cut_short = True  # its folders are still needed: keep their watches
            return
        seen: set[str] = set()
        stamps, see = self._stamps, seen.add  # bound once: a call per file
        # With inotify, `watch.stat` also watches the file's folder before stat'ing it, so that
        # from the next pass on the file is skipped while no event names it.
        verified = watch.verified if watch is not None else {}
        stat_of = watch.stat if watch is not None else os.stat
        for number, tracked in enumerate(discovered):
            # Asked every 64 files (a fraction of a millisecond of stats): quitting waits no
            # longer, and the warm pass saves a call per file.
            if not number & 63 and cancelled():
                # The files not reached were not stat'ed, not found missing: keep their cursors.
                changes.files_seen += len(seen)
                self._cut_short = True
                return
            path = tracked.path
            see(path)
            unchanged = verified.get(path)
            if unchanged is not None and unchanged == stamps.get(path):
                continue  # the watched path: no event since a stat that matched its cursor
            try:
                st = stat_of(path)
            except OSError as exc:
                problems.append(Problem(path, _os_message(exc)))
                continue
            if stamps.get(path) == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev):
                continue  # the warm path: one stat and one comparison for an unchanged file
            stat = FileStat(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            known = self._files.get(path)
            if known is not None and known.cursor.unchanged(stat):
                continue
            known = self._prepare(source, tracked, known, stat)
            if known.acc is None:  # nothing to go on: read it whole, below
                fresh.append((FreshJob(source, tracked, stat), known))
                continue
            try:
                result = read_appended(
                    path, known.cursor, stat, known.acc.feed, max_line_bytes=max_line
                )
            except OSError as exc:
                problems.append(Problem(path, _os_message(exc)))
                continue
            self._apply(known, result, changes, problems)
        changes.files_seen += len(seen)
        changes.dirty |= self._forget_missing(source.agent, seen)

    def members(self, keys: set[SessionKey]) -> dict[SessionKey, list[TrackedState]]:
        """The files of each of `keys`, in one pass over the index (not one per session)."""
        groups: dict[SessionKey, list[TrackedState]] = {}
        if keys:
            for info in self._files.values():
                key = info.key
                if key in keys:
                    groups.setdefault(key, []).append(info)
        return groups

    def build(
        self, source: Source, key: SessionKey, files: list[TrackedState], problems: list[Problem]
    ) -> SessionFacts | None:
        members = self.accumulators(source, files, problems)
        if not members:
            return None
        try:
            return source.build(key, members)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(members[0][0].path, f"cannot build session: {exc}"))
            return None

    def accumulators(
        self, source: Source, files: list[TrackedState], problems: list[Problem]
    ) -> list[tuple[TrackedFile, FileAccumulator]]:
        """The files' accumulators, main files first: restored from the store where a file's
        was not kept in memory, or the file read again from 0 where none can be."""
        members: list[tuple[TrackedFile, FileAccumulator]] = []
        for info in files:
            if info.acc is None:
                info.acc = self._restore(source, info)
                if info.acc is None:  # no usable saved state: read this file again from 0
                    info.acc = source.new_accumulator(info.tracked)
                    self._refeed(info, problems)
            members.append((info.tracked, info.acc))
        members.sort(key=lambda m: (m[0].role != "main", m[0].path))
        return members

    # -- files ------------------------------------------------------------------------------

    def _prepare(
        self, source: Source, tracked: TrackedFile, known: TrackedState | None, stat: FileStat
    ) -> TrackedState:
        """The state of a file whose stat changed (or a new file). A state left without an
        accumulator must be read from its first byte."""
        if known is None or known.tracked != tracked:
            known = TrackedState(tracked, source.agent, Cursor())
            self._put(known)
        if known.cursor.must_restart(stat):
            self._set_cursor(known, Cursor())
            known.acc = None
            log.info("re-reading %s: truncated or replaced", tracked.path)
        if known.acc is None and known.cursor.offset:
            known.acc = self._restore(source, known)
        if known.acc is None:
            self._set_cursor(known, Cursor())
        return known

    def _apply(
        self, known: TrackedState, result: TailResult, changes: Changes, problems: list[Problem]
    ) -> None:
        path = known.tracked.path
        for bad in result.bad_lines:
            problems.append(Problem(f"{path}:{bad.line_number}", bad.message))
        hidden = result.bad_line_count - len(result.bad_lines)
        if hidden > 0:
            problems.append(Problem(path, "more bad lines skipped", hidden))
        self._set_cursor(known, result.cursor)
        known.dirty = self._any_dirty = True
        changes.bytes_read += result.bytes_read
        changes.files_read += 1
        changes.dirty.add(known.key)

    def _read_snapshot_source(
        self, source: SnapshotSource, changes: Changes, problems: list[Problem]
    ) -> None:
        """Stat the watched files; the source re-reads the changed ones whole, read-only."""
        try:
            watched = source.watched()
        except OSError as exc:
            problems.append(Problem(str(exc.filename or source.agent), _os_message(exc)))
            return
        changes.files_seen += len(watched)
        changed: dict[str, FileStat] = {}
        for path in watched:
            try:
                stat = FileStat.of(path)
            except OSError as exc:
                problems.append(Problem(path, _os_message(exc)))
                continue
            known = self._files.get(path)
            if known is None or not known.cursor.unchanged(stat):
                changed[path] = stat
        changes.dirty |= self._forget_missing(source.agent, set(watched))
        if not changed:
            return
        try:
            result = source.read(list(changed))
        except OSError as exc:
            problems.append(Problem(next(iter(changed)), _os_message(exc)))
            return
        problems.extend(result.problems)
        changes.files_read += len(changed)
        changes.bytes_read += result.bytes_read
        for facts in result.facts:
            changes.replaced.append(facts)
            changes.dirty.add(facts.key)
        for path, st in changed.items():
            if path in result.retry:
                continue  # busy now: keep the old stat so the next poll reads it again
            cursor = Cursor(st.dev, st.ino, st.size, st.mtime_ns, st.size, 0)
            tracked = TrackedFile(path, "", "snapshot")
            self._put(TrackedState(tracked, source.agent, cursor, dirty=True))

    def _restore(self, source: Source, known: TrackedState) -> FileAccumulator | None:
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
        mine = self._by_agent.get(agent)
        if not mine or mine <= seen:
            return set()  # the usual poll: every file still there
        gone = [p for p, f in self._files.items() if f.agent == agent and p not in seen]
        lost: set[SessionKey] = set()
        for path in gone:
            info = self._files.pop(path)
            del self._stamps[path]
            mine.discard(path)
            if info.tracked.role != "snapshot":  # a snapshot file holds many sessions
                lost.add(info.key)
        remaining = {self._files[p].key for p in mine}
        if self._store is not None:
            try:
                self._store.delete_cursors(gone)
            except StoreError as exc:
                self.store_problem = Problem(exc.path, str(exc))
        return lost & remaining  # other files of the session remain: rebuild from them

    def _put(self, state: TrackedState) -> None:
        """Track a file (or replace its state): every change to `_files` but removal."""
        path = state.tracked.path
        old = self._files.get(path)
        if old is not None and old.agent != state.agent:
            self._by_agent[old.agent].discard(path)
        self._files[path] = state
        self._stamps[path] = _stamp(state.cursor)
        self._by_agent.setdefault(state.agent, set()).add(path)
        if state.dirty:
            self._any_dirty = True

    def _set_cursor(self, state: TrackedState, cursor: Cursor) -> None:
        state.cursor = cursor
        self._stamps[state.tracked.path] = _stamp(cursor)

    def _is_snapshot(self, source: Source | SnapshotSource) -> bool:
        # isinstance against a runtime-checkable Protocol inspects every member: once a source.
        # The source is kept with its answer, so its id cannot be reused by another object.
        kind = self._snapshot_kind.get(id(source))
        if kind is None:
            kind = (source, isinstance(source, SnapshotSource))
            self._snapshot_kind[id(source)] = kind
        return kind[1]

    def _refeed(self, info: TrackedState, problems: list[Problem]) -> None:
        assert info.acc is not None
        try:
            stat = FileStat.of(info.tracked.path)
            cursor = read_appended(info.tracked.path, Cursor(), stat, info.acc.feed).cursor
            self._set_cursor(info, cursor)
            info.dirty = self._any_dirty = True
        except OSError as exc:
            self._set_cursor(info, Cursor())
            problems.append(Problem(info.tracked.path, _os_message(exc)))

    def __iter__(self) -> Iterator[TrackedState]:
        return iter(self._files.values())


def _stamp(cursor: Cursor) -> Stamp:
    return (cursor.size, cursor.mtime_ns, cursor.ino, cursor.dev)


def _os_message(exc: OSError) -> str:
    return exc.strerror or str(exc)
