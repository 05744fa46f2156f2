"""What one GitHub Copilot CLI `events.jsonl` says, gathered line by line.

Every line is `{"type", "data", "id", "timestamp", "parentId"}`. Copilot CLI 1.0.102 writes one
`session.usage_record` per API call (`data.usage`: `model`, `inputTokens`, `outputTokens`,
`cacheReadTokens`, `cacheWriteTokens`, `maxPromptTokens`, `accounting.{sourceSessionId,
sequence}`), so tokens are exact per call. `inputTokens` *includes* the cache reads and writes:
uncached input = inputTokens - cacheRead - cacheWrite, and the full prompt (the context now) is
`inputTokens`. A call is counted once by its id (`accounting.usageId`, else `apiCallId`), so a
log that repeats a record (e.g. after a resume) adds nothing.
Older versions wrote no usage records, only cumulative `modelMetrics` at `session.shutdown`; those
are the fallback, and the turns after the latest such shutdown (a session still running, or
resumed) are estimated in `copilot_estimate.py`.

The system prompt line is ~20 KB and says nothing needed here, so it is recognised on the raw
bytes and never parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from llm_session_manager.core.sources.accumulator_state import (
    check_version,
    restore_fields,
    versioned_copy,
)
from llm_session_manager.core.sources.copilot_estimate import TailEstimate

# 2: the estimate of turns no exact figure covers; a version-1 state is read again from the start.
STATE_VERSION = 2
UNKNOWN_MODEL = "unknown"
RECENT_ERRORS = 20
MESSAGE_CHARS = 300
PROMPT_CHARS = 2000
IDS_KEPT = 64
# Enough to recognise any call a resume might repeat, bounded so a long session stays small.
CALL_IDS_KEPT = 1024
# [input incl. cache, output, cache read, cache write]
Raw = list[int]
_USAGE_KEYS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")
_SKIPPED = (b'{"type":"system.message"', b'{"type":"assistant.message.delta"',
            b'{"type":"assistant.reasoning_delta"')


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def raw_usage(usage: Any) -> Raw | None:
    if not isinstance(usage, dict):
        return None
    return [v if isinstance(v := usage.get(k), int) and v >= 0 else 0 for k in _USAGE_KEYS]


class EventsAccumulator:
    """Facts of one Copilot CLI session log. `feed` takes one complete line."""

    def __init__(self, count_tokens: Callable[[str], int] | None = None) -> None:
        self.session_id: str | None = None
        self.start_time: str | None = None
        self.cwd: str | None = None
        self.branch: str | None = None
        self.model: str | None = None
        self.cli_version: str | None = None  # as the latest start or resume names it
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        # tokens
        self.by_model: dict[str, Raw] = {}
        self.call_ids: list[str] = []  # the latest calls counted, to count each once
        self.calls = 0
        self.shutdown_by_model: dict[str, Raw] = {}  # fallback for logs without usage records
        self.estimate = TailEstimate(count_tokens)  # turns after it, while there are no records
        # context
        self.ctx_tokens: int | None = None
        self.ctx_window: int | None = None
        self.shutdown_tokens: int | None = None
        self.compactions = 0
        self.last_pre: int | None = None
        self.last_post: int | None = None
        self.post_pending = False
        # conversation
        self.prompts = 0
        self.replies = 0
        self.first_prompt: str | None = None
        # errors
        self.tool_errors = 0
        self.api_errors = 0
        self.failed_ids: list[str] = []
        self.recent_errors: list[str] = []
        self.last_error: str | None = None
        # where the turn stands
        self.turn_open = False
        self.running_tools: list[str] = []
        self.permissions: list[str] = []
        self.shut_down = False
        self.seen_turn = False

    # ---- state -----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k != "estimate"}
        state["estimate"] = self.estimate.dump()
        return versioned_copy(state, STATE_VERSION)

    @classmethod
    def restore(
        cls, state: dict[str, Any], count_tokens: Callable[[str], int] | None = None
    ) -> EventsAccumulator:
        check_version(state, STATE_VERSION, "copilot")
        acc = cls(count_tokens)

        def estimate(value: Any) -> None:
            acc.estimate = TailEstimate.restore(value, count_tokens)

        restore_fields(acc, state, "copilot", set(vars(acc)), {"estimate": estimate})
        return acc

    # ---- feeding ---------------------------------------------------------------------------

    def feed(self, line: bytes) -> None:
        # A line cut short still goes to the parser, so that it is reported as bad.
        if line.startswith(_SKIPPED) and line.rstrip().endswith(b"}"):
            return
        event = orjson.loads(line)
        if not isinstance(event, dict):
            raise ValueError("line is not a JSON object")
        ts = _text(event.get("timestamp"))
        if ts is not None:
            if self.first_ts is None:
                self.first_ts = ts
            self.last_ts = ts
        data = event.get("data")
        kind = event.get("type")
        if isinstance(data, dict) and isinstance(kind, str):
            self._on_event(kind, data, ts)

    def _on_event(self, kind: str, d: dict[str, Any], ts: str | None) -> None:
        if kind in ("session.start", "session.resume"):
            self._on_start(d)
        elif kind == "session.model_change":
            self.model = _text(d.get("newModel")) or self.model
        elif kind == "session.usage_record":
            self._on_usage(d.get("usage"))
        elif kind == "user.message":
            self.prompts += 1
            text = _text(d.get("content"))
            if self.first_prompt is None and text:
                self.first_prompt = text[:PROMPT_CHARS]
            self.turn_open = self.seen_turn = True
            if not self.calls:
                self.estimate.prompt(d.get("messageId"), self.model or UNKNOWN_MODEL, text)
        elif kind == "assistant.message":
            self.replies += 1
            self.model = _text(d.get("model")) or self.model
            if not self.calls:
                self.estimate.reply(d.get("messageId"), self.model or UNKNOWN_MODEL, d)
        elif kind == "assistant.turn_start":
            self.turn_open = self.seen_turn = True
        elif kind == "assistant.turn_end":
            self.turn_open = False
        elif kind == "tool.execution_start":
            self._keep(self.running_tools, d.get("toolCallId"))
        elif kind == "tool.execution_complete":
            self._on_tool_done(d, ts)
        elif kind == "permission.requested":
            self._keep(self.permissions, d.get("requestId"))
        elif kind == "permission.completed":
            self._drop(self.permissions, d.get("requestId"))
        elif kind == "session.error":
            self.api_errors += 1
            message = _text(d.get("message")) or _text(d.get("errorType")) or "API error"
            self._remember(message[:MESSAGE_CHARS], ts)
            self.turn_open = False
        elif kind in ("abort", "session.idle"):
            self.turn_open = False
            self.running_tools, self.permissions = [], []
        elif kind == "session.compaction_complete":
            self.compactions += 1
            self.last_pre, self.last_post, self.post_pending = self.ctx_tokens, None, True
        elif kind == "session.shutdown":
            self._on_shutdown(d)

    def _on_start(self, d: dict[str, Any]) -> None:
        self.session_id = self.session_id or _text(d.get("sessionId"))
        self.start_time = self.start_time or _text(d.get("startTime"))
        context = d.get("context")
        context = context if isinstance(context, dict) else {}
        # Older versions named the model only in the context (formats.md §4.2).
        model = _text(d.get("selectedModel")) or _text(context.get("model"))
        self.model = model or self.model
        self.cwd = _text(context.get("cwd")) or self.cwd
        self.branch = _text(context.get("branch")) or self.branch
        # 1.0.102 names itself on `session.start` only; a resume may do so in other versions.
        self.cli_version = _text(d.get("copilotVersion")) or self.cli_version
        self.shut_down = False

    def _on_usage(self, usage: Any) -> None:
        raw = raw_usage(usage)
        if raw is None or not isinstance(usage, dict):
            return
        accounting = usage.get("accounting")
        call_id = _text(accounting.get("usageId")) if isinstance(accounting, dict) else None
        call_id = call_id or _text(usage.get("apiCallId"))
        if call_id is not None:
            if call_id in self.call_ids:
                return  # this call was counted already
            self._keep(self.call_ids, call_id, CALL_IDS_KEPT)
        if not self.calls:
            self.estimate.forget()  # every call is exact from here on
        model = _text(usage.get("model")) or self.model or UNKNOWN_MODEL
        held = self.by_model.get(model, [0, 0, 0, 0])
        self.by_model[model] = [h + r for h, r in zip(held, raw, strict=True)]
        self.calls += 1
        self.ctx_tokens = raw[0]
        if self.post_pending:
            self.last_post, self.post_pending = raw[0], False
        window = usage.get("maxPromptTokens")
        if isinstance(window, int) and window > 0:
            self.ctx_window = window

    def _on_tool_done(self, d: dict[str, Any], ts: str | None) -> None:
        call_id = d.get("toolCallId")
        self._drop(self.running_tools, call_id)
        if d.get("success") is not False:
            return
        if isinstance(call_id, str) and call_id in self.failed_ids:
            return
        self._keep(self.failed_ids, call_id)
        self.tool_errors += 1
        error = d.get("error")
        message = _text(error.get("message")) if isinstance(error, dict) else _text(error)
        self._remember((message or "tool failed")[:MESSAGE_CHARS], ts)

    def _on_shutdown(self, d: dict[str, Any]) -> None:
        self.shut_down = True
        self.turn_open = False
        self.running_tools, self.permissions = [], []
        if isinstance(d.get("currentTokens"), int):
            self.shutdown_tokens = d["currentTokens"]
        metrics = d.get("modelMetrics")
        if isinstance(metrics, dict):
            # The CLI's own account of every turn so far; an empty one says nothing was billed
            # (Copilot CLI 1.0.102 writes `{}` after requests the API rejected).
            self.estimate.reset()
        if isinstance(metrics, dict) and metrics:
            # Cumulative for the session: the latest shutdown replaces the one before.
            by_model = {}
            for model, entry in metrics.items():
                raw = raw_usage(entry.get("usage")) if isinstance(entry, dict) else None
                if raw is not None:
                    by_model[str(model)] = raw
            self.shutdown_by_model = by_model
        self.model = _text(d.get("currentModel")) or self.model

    def _remember(self, message: str, ts: str | None) -> None:
        self.last_error = message
        if ts is not None:
            self.recent_errors = [*self.recent_errors, ts][-RECENT_ERRORS:]

    @staticmethod
    def _keep(ids: list[str], value: Any, limit: int = IDS_KEPT) -> None:
        if isinstance(value, str) and value not in ids:
            ids.append(value)
            del ids[:-limit]

    @staticmethod
    def _drop(ids: list[str], value: Any) -> None:
        if value in ids:
            ids.remove(value)

    # ---- read-outs for build ---------------------------------------------------------------

    @property
    def turn_hint(self) -> str | None:
        if self.permissions:
            return "permission"
        if self.running_tools:
            return "tool_running"
        if not self.seen_turn:
            return None
        return "working" if self.turn_open else "turn_done"
