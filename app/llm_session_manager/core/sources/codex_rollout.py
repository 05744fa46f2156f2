"""What one Codex rollout file says, gathered line by line from the poller's tail.

A rollout line is `{"timestamp", ["ordinal",] "type", "payload"}`. Most bytes are `response_item`
and `world_state` lines (prompt copies, tool output, a ~20 KB instruction block) that say nothing
this monitor needs, so the envelope prefix is matched on the raw bytes first and those lines are
never parsed; a tool output is parsed only when its raw bytes may report a failed command
(`codex_outputs.py`). Every fact is kept as plain JSON-able state so `dump()`/`restore` round-trip
exactly.

Token convention: Codex's `input_tokens` includes `cached_input_tokens` and `output_tokens`
includes `reasoning_output_tokens`. Counters here stay in Codex's convention
(`[input, cached, output, reasoning]`); `codex.py` converts them to `Usage` (ccusage's split).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from llm_session_manager.core.similarity import changed_paths, count_words, note_file
from llm_session_manager.core.sources.accumulator_state import (
    check_version,
    restore_fields,
    versioned_copy,
)
from llm_session_manager.core.sources.codex_items import (
    MESSAGE_CHARS,
    content_text,
    error_message,
    item_failure,
    session_source,
    text,
)
from llm_session_manager.core.sources.codex_outputs import exit_code, may_show_failure
from llm_session_manager.core.sources.codex_tokens import TokenLedger, raw_usage

PENDING_CHARS = 256 * 1024
STATE_VERSION = 1
UNKNOWN_MODEL = "unknown"  # usage seen before any turn_context named a model
RECENT_ERRORS = 20
# A failed call may be reported up to three times (an `exec_command_end` event, an
# `item_completed` item and its `function_call_output`, all with the same call id, a few lines
# apart); remembering this many ids is plenty to count it once.
FAILED_IDS_KEPT = 64

# The envelope as Codex writes it (compact serde JSON, keys in this order). Anchored, so `type`
# is the top-level key; the payload's own `type` follows when the payload starts with it.
_ENVELOPE = re.compile(
    rb'\{"timestamp":"(?P<ts>[^"]*)",(?:"ordinal":\d+,)?"type":"(?P<kind>[a-z_]+)"'
    rb'(?:,"payload":\{"type":"(?P<ptype>[A-Za-z_]+)")?'
)
# token_usage_record repeats what token_count says; world_state is settings.
_SKIPPED_KINDS = frozenset({b"world_state", b"token_usage_record"})
# The one response_item kind that always matters: a remote compaction.
_KEPT_RESPONSE_ITEMS = frozenset({b"compaction"})
# Tool outputs matter only where no event reports the call's end (older Codex, see
# `codex_outputs.py`), and then only when they may show a failure.
_TOOL_OUTPUTS = frozenset({b"function_call_output", b"custom_tool_call_output"})
_KEPT_EVENTS = frozenset(
    {
        b"token_count", b"task_started", b"turn_started", b"task_complete", b"turn_complete",
        b"turn_aborted", b"user_message", b"agent_message", b"item_completed",
        b"exec_command_end", b"patch_apply_begin", b"patch_apply_end", b"error",
        b"context_compacted",
        b"thread_name_updated",
    }
)
# item_completed items whose failure is a tool error (0.169 writes commands this way).
_TOOL_ITEMS = frozenset({"CommandExecution", "FileChange", "McpToolCall", "DynamicToolCall"})


def _skippable(kind: bytes, ptype: bytes | None, line: bytes, tool_events: bool) -> bool:
    """Whether a line of this envelope kind and payload type can be left unparsed."""
    if kind in _SKIPPED_KINDS:
        return True
    if ptype is None:  # the payload does not start with its type: parse to be sure
        return False
    if kind == b"response_item":
        if ptype in _TOOL_OUTPUTS:
            return tool_events or not may_show_failure(line)
        return ptype not in _KEPT_RESPONSE_ITEMS
    return kind == b"event_msg" and ptype not in _KEPT_EVENTS


class RolloutAccumulator:
    """Facts of one rollout file. `feed` takes one complete line; `dump` gives its state."""

    def __init__(self, count_tokens: Callable[[str], int] | None = None) -> None:
        self._count_tokens = count_tokens
        # session_meta
        self.session_id: str | None = None
        self.meta_cwd: str | None = None
        self.git_branch: str | None = None
        self.started_at: str | None = None
        self.originator: str | None = None
        self.cli_version: str | None = None
        self.source_kind: str | None = None  # "exec", "vscode", "cli", "subagent", ...
        # turn_context
        self.model: str | None = None
        self.cwd: str | None = None
        # line timestamps (file order is time order)
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        # tokens
        self.tokens = TokenLedger()
        self.counted_input = 0  # tiktoken fallback, only while no exact usage was seen
        self.counted_output = 0
        # Text not counted yet: a rollout's first token_count comes right after its first prompt,
        # so counting eagerly would load the tokenizer for nothing on nearly every file.
        self.pending_input: list[str] = []
        self.pending_output: list[str] = []
        # context
        self.ctx_tokens: int | None = None
        self.ctx_window: int | None = None
        self.task_window: int | None = None
        self.compacted_items = 0
        self.compaction_events = 0
        self.compaction_responses = 0
        self.last_pre: int | None = None
        self.last_post: int | None = None
        self.post_pending = False
        # conversation
        self.prompt_events = 0  # event_msg user_message (older Codex)
        self.prompt_items = 0  # item_completed UserMessage (0.169)
        self.reply_events = 0
        self.reply_items = 0
        self.first_prompt: str | None = None
        self.thread_name: str | None = None
        # errors
        self.tool_errors = 0
        self.api_errors = 0
        self.recent_errors: list[str] = []
        self.last_error: str | None = None
        self.failed_ids: list[str] = []
        # Once an event has reported a command's end (`exec_command_end`, a 0.169 `item_completed`
        # tool item), events are the record and tool outputs are not read: a long-running command's
        # exit shows in a later `write_stdin` output under another call id than its end event's.
        # Missing from an older saved state: False, i.e. outputs are read until such an event.
        self.tool_events = False
        self.turn_api_error = False
        self.turn_open = False
        self.turn_seen = False
        # evidence for "merge similar" advice: patched files, words of the prompts
        self.files_touched: list[str] = []
        self.prompt_words: dict[str, int] = {}

    # ---- state -----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "tokens"}
        state["tokens"] = self.tokens.dump()
        return versioned_copy(state, STATE_VERSION)

    @classmethod
    def restore(
        cls, state: dict[str, Any], count_tokens: Callable[[str], int] | None = None
    ) -> RolloutAccumulator:
        check_version(state, STATE_VERSION, "codex")
        acc = cls(count_tokens)

        def tokens(value: Any) -> None:
            acc.tokens = TokenLedger.restore(value)

        public = {k for k in vars(acc) if not k.startswith("_")}
        restore_fields(acc, state, "codex", public, {"tokens": tokens})
        return acc

    # ---- feeding ---------------------------------------------------------------------------

    def feed(self, line: bytes) -> None:
        head = _ENVELOPE.match(line, 0, 400)
        # A line cut short still goes to the parser, so that it is reported as bad.
        if (
            head is not None
            and line.rstrip().endswith(b"}")
            and _skippable(head.group("kind"), head.group("ptype"), line, self.tool_events)
        ):
            self._stamp(head.group("ts").decode())
            return
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        timestamp = record.get("timestamp")
        ts = timestamp if isinstance(timestamp, str) and timestamp else None
        if ts is not None:
            self._stamp(ts)
        payload = record.get("payload")
        if not isinstance(payload, dict):
            return
        kind_s = record.get("type")
        if kind_s == "event_msg":
            self._on_event(payload, ts)
        elif kind_s == "turn_context":
            self.model = text(payload.get("model")) or self.model
            self.cwd = text(payload.get("cwd")) or self.cwd
        elif kind_s == "session_meta":
            self._on_meta(payload, ts)
        elif kind_s == "compacted":
            self.compacted_items += 1
            self._on_compaction()
        elif kind_s == "response_item":
            self._on_response_item(payload, ts)

    def _on_response_item(self, payload: dict[str, Any], ts: str | None) -> None:
        kind = payload.get("type")
        if kind == "compaction":
            self.compaction_responses += 1
            self._on_compaction()
        elif kind in ("function_call_output", "custom_tool_call_output") and not self.tool_events:
            code = exit_code(payload.get("output"))
            if code is not None and code != 0:
                self._tool_error(payload.get("call_id"), f"command exited with code {code}", ts)

    def _stamp(self, ts: str) -> None:
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts

    def _on_meta(self, payload: dict[str, Any], ts: str | None) -> None:
        self.session_id = text(payload.get("id")) or self.session_id
        self.meta_cwd = text(payload.get("cwd")) or self.meta_cwd
        self.started_at = self.started_at or text(payload.get("timestamp")) or ts
        self.originator = text(payload.get("originator")) or self.originator
        self.cli_version = text(payload.get("cli_version")) or self.cli_version
        kind, spawned = session_source(payload.get("source"))
        self.source_kind = kind or self.source_kind
        if spawned is not None:
            self.tokens.subagent = spawned
        git = payload.get("git")
        if isinstance(git, dict):
            self.git_branch = text(git.get("branch")) or self.git_branch

    def _on_event(self, p: dict[str, Any], ts: str | None) -> None:
        kind = p.get("type")
        if kind == "token_count":
            self._on_token_count(p, ts)
        elif kind in ("task_started", "turn_started"):
            self.turn_open = self.turn_seen = True
            self.turn_api_error = False
            window = p.get("model_context_window")
            if isinstance(window, int) and window > 0:
                self.task_window = window
        elif kind in ("task_complete", "turn_complete", "turn_aborted"):
            self.turn_open = False
            self.turn_seen = True
            if p.get("error") and not self.turn_api_error:
                self._api_error(error_message(p["error"]), ts)
        elif kind == "error":
            # Counted once per turn: a failed turn may also end in a task_complete with `error`.
            if not self.turn_api_error:
                self._api_error(error_message(p), ts)
        elif kind == "user_message":
            self.prompt_events += 1
            self._on_prompt(text(p.get("message")))
        elif kind == "agent_message":
            self.reply_events += 1
            self._on_reply(text(p.get("message")))
        elif kind == "item_completed":
            self._on_item(p.get("item"), ts)
        elif kind == "exec_command_end":
            self.tool_events = True
            code = p.get("exit_code")
            if isinstance(code, int) and code != 0:
                self._tool_error(p.get("call_id"), f"command exited with code {code}", ts)
        elif kind == "patch_apply_begin":
            self._on_files(p.get("changes"))
        elif kind == "patch_apply_end":
            self._on_files(p.get("changes"))
            if p.get("success") is False:
                message = text(p.get("stderr")) or "patch failed to apply"
                self._tool_error(p.get("call_id"), message[:MESSAGE_CHARS], ts)
        elif kind == "context_compacted":
            self.compaction_events += 1
            self._on_compaction()
        elif kind == "thread_name_updated":
            self.thread_name = text(p.get("thread_name")) or text(p.get("name"))

    def _on_item(self, item: Any, ts: str | None) -> None:
        if not isinstance(item, dict):
            return
        kind = item.get("type")
        if kind == "UserMessage":
            self.prompt_items += 1
            self._on_prompt(content_text(item.get("content")))
        elif kind == "AgentMessage":
            self.reply_items += 1
            self._on_reply(content_text(item.get("content")))
        elif kind in _TOOL_ITEMS:
            self.tool_events = True
            if kind == "FileChange":
                self._on_files(item.get("changes"))
            code = item.get("exit_code")
            failed = item.get("status") == "failed" or (isinstance(code, int) and code != 0)
            if failed:
                self._tool_error(item.get("id"), item_failure(kind, item, code), ts)

    def _on_files(self, changes: Any) -> None:
        for path in changed_paths(changes):
            note_file(self.files_touched, path)

    def _on_prompt(self, text: str | None) -> None:
        if self.first_prompt is None and text:
            self.first_prompt = text
        if text:
            count_words(self.prompt_words, text)
        if text and self._count_tokens is not None and not self.tokens.seen:
            self.pending_input.append(text)
            self._bound_pending()

    def _on_reply(self, text: str | None) -> None:
        if text and self._count_tokens is not None and not self.tokens.seen:
            self.pending_output.append(text)
            self._bound_pending()

    def _bound_pending(self) -> None:
        """Keep memory bounded: past PENDING_CHARS of uncounted text, count it now."""
        if sum(map(len, self.pending_input)) + sum(map(len, self.pending_output)) > PENDING_CHARS:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Count the pending text (only while the rollout has shown no exact usage)."""
        if self.tokens.seen or self._count_tokens is None:
            self.pending_input, self.pending_output = [], []
            return
        self.counted_input += sum(map(self._count_tokens, self.pending_input))
        self.counted_output += sum(map(self._count_tokens, self.pending_output))
        self.pending_input, self.pending_output = [], []

    def _tool_error(self, call_id: Any, message: str, ts: str | None) -> None:
        if isinstance(call_id, str) and call_id:
            if call_id in self.failed_ids:
                return
            self.failed_ids = [*self.failed_ids, call_id][-FAILED_IDS_KEPT:]
        self.tool_errors += 1
        self._remember(message, ts)

    def _api_error(self, message: str | None, ts: str | None) -> None:
        self.api_errors += 1
        self.turn_api_error = True
        self._remember(message or "API error", ts)

    def _remember(self, message: str, ts: str | None) -> None:
        self.last_error = message
        if ts is not None:
            self.recent_errors = [*self.recent_errors, ts][-RECENT_ERRORS:]

    def _on_compaction(self) -> None:
        self.last_pre = self.ctx_tokens
        self.last_post = None
        self.post_pending = True

    # ---- tokens ----------------------------------------------------------------------------

    def _on_token_count(self, p: dict[str, Any], ts: str | None) -> None:
        info = p.get("info")
        if not isinstance(info, dict):
            return  # a rate-limit-only event
        window = info.get("model_context_window")
        if isinstance(window, int) and window > 0:
            self.ctx_window = window
        last = info.get("last_token_usage")
        if isinstance(last, dict) and isinstance(last.get("total_tokens"), int):
            self.ctx_tokens = last["total_tokens"]
            if self.post_pending:
                self.last_post, self.post_pending = self.ctx_tokens, False
        total = raw_usage(info.get("total_token_usage"))
        if total is not None:
            model = text(p.get("model")) or text(info.get("model")) or self.model
            self.tokens.add(total, ts, model or UNKNOWN_MODEL)

    # ---- read-outs for build ---------------------------------------------------------------

    @property
    def prompts(self) -> int:
        # Older Codex writes `user_message` events, 0.169 `UserMessage` items; a version that
        # writes both for one prompt must not count it twice.
        return max(self.prompt_events, self.prompt_items)

    @property
    def replies(self) -> int:
        return max(self.reply_events, self.reply_items)

    @property
    def compactions(self) -> int:
        # One compaction may show as a `compacted` item, a `context_compacted` event and (remote
        # compaction) a `compaction` response item: count the kind seen most often.
        return max(self.compacted_items, self.compaction_events, self.compaction_responses)

    @property
    def turn_hint(self) -> str | None:
        if not self.turn_seen:
            return None
        return "working" if self.turn_open else "turn_done"
