"""A GitHub Copilot CLI session's timeline, read from its `events.jsonl`.

The lines go through the same `EventsAccumulator` the poller uses, so a usage record repeated
after a resume counts once. After each call it counts, the point is the session's usage so far
(converted as the facts convert it) and the call's whole prompt as the context; a
`session.compaction_complete` is a compaction, whose context after it is known from the next call.
A log from before usage records (only shutdown totals) has no point to draw: the chart then uses
the samples the app stored.

A session's history is its events log (a history-session-state copy beside it is the same
history); the one written last is read, as its facts read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from llm_session_manager.core.sources.copilot_cli import to_usage
from llm_session_manager.core.sources.copilot_events import EventsAccumulator
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.timeline import OneFileTimeline


def events_logs(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if not p.endswith((".yaml", ".yml"))]


class CopilotTimelineBuilder(OneFileTimeline):
    """A `TimelineBuilder` over one events log."""

    def __init__(self, path: str | None) -> None:
        super().__init__(path)
        # No token counter: estimated turns belong to logs with no usage records, never drawn.
        self._acc = EventsAccumulator()

    def feed(self, path: str, line: bytes) -> None:
        acc = self._acc
        calls, compactions = acc.calls, acc.compactions
        acc.feed(line)
        if acc.calls == calls and acc.compactions == compactions:
            return
        moment = parse_time(acc.last_ts)
        if moment is None:
            return
        total = sum(to_usage(raw).total for raw in acc.by_model.values())
        if acc.compactions > compactions:
            self._log.add_compaction(moment.timestamp(), total, None)
        else:
            self._log.add(moment.timestamp(), total, acc.ctx_tokens)
