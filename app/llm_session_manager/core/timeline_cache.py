"""The timelines of the sessions the window showed last, kept in the poller thread.

The window asks for a session's history when it is selected and again whenever its tokens
change, so the selected session of an active agent is asked for at every poll that read
something of it. Each file's cursor is kept with its session's builder: an unchanged file costs a
`stat`, a grown one is read from where reading stopped (a half-written last line waits, as in
`core.tail`), and a file replaced or truncated, or a change in which files the session has
(a new subagent transcript, a newer Codex copy), means reading the session afresh.
Only a few sessions are kept, so memory stays bounded however many are looked at.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources.base import TimelineReader
from llm_session_manager.core.tail import Cursor, FileStat, read_appended
from llm_session_manager.core.timeline import Timeline, TimelineBuilder

KEPT_SESSIONS = 4


@dataclass
class _Entry:
    builder: TimelineBuilder
    cursors: dict[str, Cursor]
    timeline: Timeline | None = None


class TimelineCache:
    def __init__(self, kept_sessions: int = KEPT_SESSIONS) -> None:
        self._kept = max(kept_sessions, 1)
        self._entries: OrderedDict[SessionKey, _Entry] = OrderedDict()
        self.bytes_read = 0  # read by all calls so far: what a test can see re-reading by

    def get(self, reader: TimelineReader, facts: SessionFacts) -> Timeline:
        """The session's timeline, reading only what changed since the last call for it.

        Raises OSError when a file cannot be read; the session is then forgotten, so the next
        call starts afresh.
        """
        fresh = reader.timeline_builder(facts)
        entry = self._entries.pop(facts.key, None)
        paths = fresh.paths
        stats = {path: FileStat.of(path) for path in paths}
        if (
            entry is None
            or entry.builder.paths != paths
            or any(entry.cursors[p].must_restart(stats[p]) for p in paths)
        ):
            entry = _Entry(fresh, {path: Cursor() for path in paths})
        changed = False
        for path in paths:
            cursor = entry.cursors[path]
            if cursor.unchanged(stats[path]):
                continue
            result = read_appended(path, cursor, stats[path], partial(entry.builder.feed, path))
            entry.cursors[path] = result.cursor
            self.bytes_read += result.bytes_read
            changed = True
        if changed or entry.timeline is None:
            entry.timeline = entry.builder.timeline()
        self._entries[facts.key] = entry
        while len(self._entries) > self._kept:
            self._entries.popitem(last=False)  # the one looked at longest ago
        return entry.timeline
