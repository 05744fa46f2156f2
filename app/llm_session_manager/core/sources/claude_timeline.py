"""A Claude Code session's timeline, read from its transcripts (main and subagents).

Every API request counts once: streamed repeats are merged per file and then across the
session's files exactly as `claude_code` builds the facts (`merge_usage`, files in
`SessionFacts.paths` order), so the last point's total is the session's total. Requests are
then placed in timestamp order: the cumulative total is the running sum of their totals; the
context is the prompt size of each main-thread request. Compactions are the main thread's
`system`/`compact_boundary` lines, with `compactMetadata.postTokens` as the context right after.

Memory follows the number of requests (one small entry each), as the accumulator's does; the
lines themselves are dropped once read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_session_manager.core.sources.claude_lines import (
    SYNTHETIC_MODEL,
    UsageEntry,
    merge_usage,
    merged_usage,
    output_text,
    parse_ts,
    skippable,
    usage_entry,
)
from llm_session_manager.core.timeline import MAX_POINTS, Timeline, TimelinePoint, thin

# What a line must contain to matter here; anything else is not parsed.
_USAGE = b'"usage"'
_COMPACT = b'"compact_boundary"'
_ASSISTANT = b'"assistant"'


@dataclass
class _FileState:
    seq: int = 0  # lines fed: keys a line that has neither a message id nor a uuid
    last_ts: float | None = None  # a line without a time is placed at the one before it
    usage: dict[str, list[UsageEntry]] = field(default_factory=dict)
    # line key -> (tokens, time): replies that carry no usage, counted offline
    counted: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    # uuid (or place in the file) -> (time, context after)
    compactions: dict[str, tuple[float | None, int | None]] = field(default_factory=dict)


class ClaudeTimelineBuilder:
    """A `TimelineBuilder` over a session's transcripts (`SessionFacts.paths`)."""

    def __init__(
        self, paths: Sequence[str], count_tokens: Callable[[str], int] | None = None
    ) -> None:
        self._paths = tuple(paths)
        self._files = {path: _FileState() for path in self._paths}
        # The same counter the source counts usage-less replies with, so the totals agree.
        self._count_tokens = count_tokens

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths

    def feed(self, path: str, line: bytes) -> None:
        state = self._files[path]
        state.seq += 1
        if skippable(line):
            return
        counting = self._count_tokens is not None and _ASSISTANT in line
        if _USAGE not in line and _COMPACT not in line and not counting:
            return
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        ts = parse_ts(record.get("timestamp"))
        if ts is None:
            ts = state.last_ts
        state.last_ts = ts
        kind = record.get("type")
        message = record.get("message")
        if kind is None and isinstance(message, dict) and message.get("role") == "assistant":
            kind = "assistant"  # the oldest records carry no type (as the accumulator reads them)
        if kind == "assistant" and isinstance(message, dict):
            self._assistant(path, state, record, message, ts)
        elif (
            kind == "system"
            and record.get("subtype") == "compact_boundary"
            and record.get("isSidechain") is not True
        ):
            meta = record.get("compactMetadata")
            post = meta.get("postTokens") if isinstance(meta, dict) else None
            after = post if isinstance(post, int) and not isinstance(post, bool) else None
            state.compactions[_line_key(record, path, state.seq)] = (ts, after)

    def _assistant(
        self,
        path: str,
        state: _FileState,
        record: dict[str, Any],
        message: dict[str, Any],
        ts: float | None,
    ) -> None:
        raw_model = message.get("model")
        synthetic = raw_model == SYNTHETIC_MODEL or record.get("isApiErrorMessage") is True
        model = raw_model if isinstance(raw_model, str) and raw_model != SYNTHETIC_MODEL else None
        message_id = message.get("id")
        line_key = _line_key(record, path, state.seq)
        key = message_id if isinstance(message_id, str) and message_id else line_key
        usage = message.get("usage")
        if isinstance(usage, dict):
            sidechain = record.get("isSidechain") is True
            merge_usage(state.usage, key, usage_entry(usage, record.get("requestId"), sidechain,
                                                      model, ts))  # fmt: skip
        elif self._count_tokens is not None and not synthetic:
            text = output_text(message.get("content"))
            if text:
                state.counted[line_key] = (self._count_tokens(text), ts)

    def timeline(self) -> Timeline:
        files = [self._files[p] for p in self._paths]
        table = merged_usage([state.usage for state in files])
        counted: dict[str, tuple[int, float | None]] = {}
        compactions: dict[str, tuple[float | None, int | None]] = {}
        for state in files:
            counted.update(state.counted)
            compactions.update(state.compactions)
        # (time, order, tokens added, context or None, is a compaction); a compaction sorts
        # before a request of the same instant, which is the first one after it.
        events: list[tuple[float, int, int, int | None, bool]] = []
        for copies in table.values():
            for e in copies:
                # A main-thread request that read nothing is the CLI's own reply (an API error,
                # "No response requested."), not a prompt the model saw.
                context = e.prompt_tokens if not e.sidechain and e.prompt_tokens else None
                events.append((_when(e.ts), 1, e.total, context, False))
        for tokens, ts in counted.values():
            events.append((_when(ts), 1, tokens, None, False))
        for ts, after in compactions.values():
            events.append((_when(ts), 0, 0, after, True))
        events.sort(key=lambda ev: ev[:2])
        points: list[TimelinePoint] = []
        kept: list[bool] = []
        total = 0
        for at, _, tokens, context, compaction in events:
            total += tokens
            if at == _NO_TIME:
                continue  # counted in the total, but cannot be placed on a time axis
            points.append(TimelinePoint(at, total, context))
            kept.append(compaction)
        # Every request is in memory already: thinned once, here, rather than as they come.
        chosen = thin(points, kept, MAX_POINTS)
        marks = tuple(p.at for p, k in zip(points, kept, strict=True) if k)
        return Timeline(tuple(points[i] for i in chosen), marks)


_NO_TIME = float("-inf")


def _when(ts: float | None) -> float:
    # A line with no time anywhere before it in its file sorts first, into the total only.
    return _NO_TIME if ts is None else ts


def _line_key(record: dict[str, Any], path: str, seq: int) -> str:
    # As the accumulator keys a line: its uuid (shared by copies in other files), else its place.
    uuid = record.get("uuid")
    return f"~{uuid}" if isinstance(uuid, str) and uuid else f"~{path}#{seq}"
