"""Per-file state of one Claude Code transcript, fed one complete line at a time.

The accumulator keeps only what a session's facts need (deduplicated usage per message, the
latest context size, compactions, errors, titles, times), so memory follows the number of API
requests, not the file size. `dump()` gives plain JSON and `from_state()` rebuilds an equal
accumulator, so a restart resumes at the saved byte offset instead of re-reading history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from llm_session_manager.core.similarity import count_words, note_file, tool_file
from llm_session_manager.core.sources.claude_lines import (
    MESSAGE_CHARS,
    SYNTHETIC_MODEL,
    UsageEntry,
    blocks_text,
    has_tool_result,
    merge_usage,
    output_text,
    parse_ts,
    prompt_text,
    skippable,
    tool_errors,
    usage_entry,
)
from llm_session_manager.core.sources.text import clip, short_title

STATE_VERSION = 1
RECENT_ERRORS = 20

TURN_TOOL_RUNNING = "tool_running"
TURN_DONE = "turn_done"
TURN_WORKING = "working"

# Stop reasons after which the model waits for the user. "stop_sequence" is what the CLI writes
# on its own synthetic replies (API errors, "No response requested.") that end a turn.
_TURN_ENDING_STOPS = frozenset({"end_turn", "stop_sequence"})


class ClaudeFileAccumulator:
    """What one transcript file has said so far. Feed lines in file order."""

    def __init__(self, path: str, count_tokens: Callable[[str], int] | None = None) -> None:
        self.path = path
        self._count_tokens = count_tokens
        self.seq = 0  # lines fed, parsed or not: orders events when timestamps disagree
        # message id -> distinct requests of that message (streamed repeats already merged)
        self.usage: dict[str, list[UsageEntry]] = {}
        # line key -> [tokens, model, ts] for replies that came without any usage record
        self.counted: dict[str, list[Any]] = {}
        self.reply_ids: set[str] = set()
        self.prompts = 0
        # latest main-thread request: [prompt tokens, ts, seq, model]
        self.context: list[Any] | None = None
        self.compactions = 0
        self.compact_pre: int | None = None
        self.compact_post: int | None = None
        self.compact_seq = -1
        self.tool_errors = 0
        self.api_errors = 0
        self.recent_errors: list[float] = []
        self.last_error: list[Any] | None = None  # [ts, text]
        self.ai_title: str | None = None
        self.custom_title: str | None = None
        self.summary: str | None = None
        self.first_prompt: str | None = None
        self.cwd: str | None = None
        self.git_branch: str | None = None
        self.model: str | None = None
        self.cli_version: str | None = None  # from the newest line that names one
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.turn_hint: str | None = None
        # The tool the main thread's last reply called, until its result is in: what a permission
        # prompt shown now is about.
        self.pending_tool: str | None = None
        # evidence for "merge similar" advice: files the tools touched, words of the prompts
        self.files: list[str] = []
        self.words: dict[str, int] = {}

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, line: bytes) -> None:
        self.seq += 1
        if skippable(line):
            return
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        kind = record.get("type")
        if kind is None and _role(record) == "assistant":
            kind = "assistant"  # the oldest records carry no type; ccusage reads them by usage
        if kind == "assistant":
            self._assistant(record)
        elif kind == "user":
            self._user(record)
        elif kind == "system":
            self._system(record)
        elif kind == "ai-title":
            self.ai_title = _title(record.get("aiTitle")) or self.ai_title
        elif kind == "custom-title":
            self.custom_title = _title(record.get("customTitle")) or self.custom_title
        elif kind == "summary":
            self.summary = _title(record.get("summary")) or self.summary

    def _envelope(self, record: dict[str, Any]) -> float | None:
        """Fields every conversation line carries: time, cwd, branch, CLI version."""
        ts = parse_ts(record.get("timestamp"))
        if ts is not None:
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
        cwd = record.get("cwd")
        # The first cwd is where the session was started: the project, and what a live
        # process's cwd is matched against.
        if self.cwd is None and isinstance(cwd, str) and cwd:
            self.cwd = cwd
        branch = record.get("gitBranch")
        if isinstance(branch, str) and branch:
            self.git_branch = branch
        # Nearly every line repeats the version already kept: one compare, and only a change
        # (a resume by a newer CLI appends to the same file) is checked further.
        version = record.get("version")
        if version != self.cli_version and isinstance(version, str) and version:
            self.cli_version = version
        return ts

    def _assistant(self, record: dict[str, Any]) -> None:
        ts = self._envelope(record)
        message = record.get("message")
        if not isinstance(message, dict):
            return
        sidechain = record.get("isSidechain") is True
        raw_model = message.get("model")
        synthetic = raw_model == SYNTHETIC_MODEL or record.get("isApiErrorMessage") is True
        model = raw_model if isinstance(raw_model, str) and raw_model != SYNTHETIC_MODEL else None
        message_id = message.get("id")
        key = message_id if isinstance(message_id, str) and message_id else self._line_key(record)

        if record.get("isApiErrorMessage") is True:
            text = blocks_text(message.get("content")).strip() or "API error"
            self._error(ts, text, api=True)

        usage = message.get("usage")
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    path = tool_file(block.get("name"), block.get("input"))
                    if path is not None:
                        note_file(self.files, path)

        if isinstance(usage, dict):
            entry = usage_entry(usage, record.get("requestId"), sidechain, model, ts)
            merge_usage(self.usage, key, entry)
            if not sidechain and not synthetic:
                self.context = [entry.prompt_tokens, ts, self.seq, model]
        elif self._count_tokens is not None and not synthetic:
            # Older records carry no usage at all: count what the model wrote, offline, once
            # per line (each streamed line holds different blocks).
            text = output_text(message.get("content"))
            if text:
                self.counted[self._line_key(record)] = [self._count_tokens(text), model, ts]

        if not synthetic:
            # The session's model is the main thread's; a subagent's (often a smaller model)
            # stands only until the main thread names one.
            if model is not None and (not sidechain or self.model is None):
                self.model = model
            if not sidechain:
                self.reply_ids.add(key)
        if not sidechain:
            stop = message.get("stop_reason")
            # Older CLIs wrote stop_reason null on every streamed line; a tool call block then
            # is the only sign that a tool is about to run.
            called = _tool_names(message.get("content"))
            if called:
                self.pending_tool = called[-1]
            if stop == "tool_use" or (stop is None and called):
                self.turn_hint = TURN_TOOL_RUNNING
            elif stop in _TURN_ENDING_STOPS or synthetic:
                self.turn_hint = TURN_DONE
                self.pending_tool = None
            else:
                self.turn_hint = TURN_WORKING

    def _user(self, record: dict[str, Any]) -> None:
        ts = self._envelope(record)
        message = record.get("message")
        if not isinstance(message, dict):
            return
        content = message.get("content")
        for text in tool_errors(content):
            self._error(ts, text, api=False)
        if record.get("isSidechain") is True:
            return
        if has_tool_result(content):
            self.turn_hint = TURN_WORKING  # the tool finished; the model has the turn again
            self.pending_tool = None
            return
        prompt = prompt_text(record, message)
        if prompt is None:
            return
        self.prompts += 1
        count_words(self.words, prompt)
        self.turn_hint = TURN_WORKING
        if self.first_prompt is None:
            self.first_prompt = short_title(prompt)

    def _system(self, record: dict[str, Any]) -> None:
        ts = self._envelope(record)
        subtype = record.get("subtype")
        if subtype == "compact_boundary" and record.get("isSidechain") is not True:
            self.compactions += 1
            self.compact_seq = self.seq
            meta = record.get("compactMetadata")
            meta = meta if isinstance(meta, dict) else {}
            pre, post = meta.get("preTokens"), meta.get("postTokens")
            self.compact_pre = pre if isinstance(pre, int) and not isinstance(pre, bool) else None
            self.compact_post = (
                post if isinstance(post, int) and not isinstance(post, bool) else None
            )
        elif subtype == "turn_duration" and record.get("isSidechain") is not True:
            self.turn_hint = TURN_DONE
        if record.get("level") == "error":
            content = record.get("content")
            self._error(ts, content if isinstance(content, str) else "error", api=True)

    def _error(self, ts: float | None, text: str, *, api: bool) -> None:
        if api:
            self.api_errors += 1
        else:
            self.tool_errors += 1
        if ts is not None:
            self.recent_errors.append(ts)
            self.recent_errors.sort()
            del self.recent_errors[:-RECENT_ERRORS]
        if self.last_error is None or ts is None or (self.last_error[0] or 0.0) <= ts:
            self.last_error = [ts, clip(text, MESSAGE_CHARS)]

    def _line_key(self, record: dict[str, Any]) -> str:
        # A line with no message id cannot repeat another; key it by its own uuid, or by its
        # place in this file when it has none.
        uuid = record.get("uuid")
        return f"~{uuid}" if isinstance(uuid, str) and uuid else f"~{self.path}#{self.seq}"

    # -- derived ---------------------------------------------------------------------------

    def context_tokens(self) -> int | None:
        """Prompt size of the latest main-thread request; after a newer compaction, its result."""
        if self.compact_seq > (self.context[2] if self.context else -1):
            return self.compact_post
        return self.context[0] if self.context else None

    # -- persistence -----------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "seq": self.seq,
            "usage": {k: [list(e) for e in copies] for k, copies in self.usage.items()},
            "counted": {k: list(v) for k, v in self.counted.items()},
            "reply_ids": sorted(self.reply_ids),
            "prompts": self.prompts,
            "context": list(self.context) if self.context is not None else None,
            "compact": [self.compactions, self.compact_pre, self.compact_post, self.compact_seq],
            "errors": [
                self.tool_errors,
                self.api_errors,
                list(self.recent_errors),
                list(self.last_error) if self.last_error is not None else None,
            ],
            "titles": [self.ai_title, self.custom_title, self.summary, self.first_prompt],
            "where": [self.cwd, self.git_branch, self.model],
            "times": [self.first_ts, self.last_ts],
            "turn_hint": self.turn_hint,
            "pending_tool": self.pending_tool,
            "cli_version": self.cli_version,
            "files": list(self.files),
            "words": dict(self.words),
        }

    @classmethod
    def from_state(
        cls,
        path: str,
        state: dict[str, Any],
        count_tokens: Callable[[str], int] | None = None,
    ) -> ClaudeFileAccumulator:
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"unknown Claude accumulator state version {state.get('v')!r}")
        acc = cls(path, count_tokens)
        acc.seq = state["seq"]
        acc.usage = {k: [UsageEntry(*row) for row in rows] for k, rows in state["usage"].items()}
        acc.counted = {k: list(v) for k, v in state["counted"].items()}
        acc.reply_ids = set(state["reply_ids"])
        acc.prompts = state["prompts"]
        acc.context = list(state["context"]) if state["context"] is not None else None
        acc.compactions, acc.compact_pre, acc.compact_post, acc.compact_seq = state["compact"]
        tool, api, recent, last = state["errors"]
        acc.tool_errors, acc.api_errors = tool, api
        acc.recent_errors = list(recent)
        acc.last_error = list(last) if last is not None else None
        acc.ai_title, acc.custom_title, acc.summary, acc.first_prompt = state["titles"]
        acc.cwd, acc.git_branch, acc.model = state["where"]
        acc.first_ts, acc.last_ts = state["times"]
        acc.turn_hint = state["turn_hint"]
        acc.pending_tool = state.get("pending_tool")  # absent from states saved before it
        acc.cli_version = state.get("cli_version")  # likewise; the next line read names it
        # States saved before these were collected lack them: the evidence starts from here.
        acc.files = list(state.get("files", []))
        acc.words = dict(state.get("words", {}))
        return acc


def _title(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return short_title(value)


def _tool_names(content: object) -> list[str]:
    """The names of the tools a reply's content calls, in order ("" for a nameless call)."""
    if not isinstance(content, list):
        return []
    return [
        name if isinstance(name := b.get("name"), str) else ""
        for b in content
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]


def _role(record: dict[str, Any]) -> object:
    message = record.get("message")
    return message.get("role") if isinstance(message, dict) else None
