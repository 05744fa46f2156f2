"""A GitHub Copilot CLI session's conversation, streamed from its `events.jsonl`.

What each event gives (Copilot CLI 1.0.102, formats.md §4.2 and §9):
- `user.message` -> the prompt (`content`; `transformedContent` adds the injected date);
- `assistant.message` -> the reply's text, and its `toolRequests` -> tool calls;
- `tool.execution_start` -> a tool call only when no `toolRequests` named it (older logs);
- `tool.execution_complete` -> the result (`result.content`), or the failure (`success: false`,
  `error.message`);
- `session.error` -> an error; `abort` -> the turn was stopped; `session.compaction_complete` ->
  a compaction.
A resumed session appends to the same log; a message seen again under its id is not repeated.
The ~20 KB system prompt line is recognised on its first bytes and never parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

_MAX_REMEMBERED = 2_000  # call ids and message ids: far more than a session has in flight
_SKIPPED = (b'{"type":"system.message"', b'{"type":"assistant.message.delta"',
            b'{"type":"assistant.reasoning_delta"', b'{"type":"session.usage_record"')


def read_conversation(paths: Sequence[str]) -> Conversation:
    logs = [p for p in paths if p.endswith(".jsonl")]
    if not logs:
        return Conversation(unavailable="the session has no events file")
    reader = _Reader()
    try:
        result = read_appended(logs[0], Cursor(), FileStat.of(logs[0]), reader.feed)
    except OSError:
        return Conversation(unavailable="the events file cannot be read")
    reader.builder.skipped_lines = result.bad_line_count
    return reader.builder.build()


class _Reader:
    def __init__(self) -> None:
        self.builder = ConversationBuilder()
        self._names: dict[str, str] = {}  # tool call id -> tool name, for its result
        self._seen: dict[str, None] = {}  # message ids and finished call ids already taken

    def feed(self, line: bytes) -> None:
        if line.startswith(_SKIPPED) and line.rstrip().endswith(b"}"):
            return
        event = orjson.loads(line)
        if not isinstance(event, dict):
            raise ValueError("line is not a JSON object")
        data, kind = event.get("data"), event.get("type")
        if not isinstance(data, dict) or not isinstance(kind, str):
            return
        ts = event.get("timestamp")
        when = parse_time(ts) if isinstance(ts, str) else None
        if kind == "user.message":
            text = _str(data.get("content"))
            if text and self._first(data.get("messageId")):
                self.builder.add(Turn("user", text, timestamp=when))
        elif kind == "assistant.message":
            if self._first(data.get("messageId")):
                self._assistant(data, when)
        elif kind == "tool.execution_start":
            call_id = data.get("toolCallId")
            if isinstance(call_id, str) and call_id not in self._names:
                self._call(call_id, data.get("toolName"), data.get("arguments"), when)
        elif kind == "tool.execution_complete":
            self._result(data, when)
        elif kind == "session.error":
            text = _str(data.get("message")) or _str(data.get("errorType")) or "API error"
            self.builder.add(Turn("error", text, is_error=True, timestamp=when))
        elif kind == "abort":
            reason = _str(data.get("reason"))
            self.builder.add(Turn("system", "turn aborted" + (f" ({reason})" if reason else ""),
                                  timestamp=when))  # fmt: skip
        elif kind == "session.compaction_complete":
            self.builder.add(Turn("compaction", "conversation compacted", timestamp=when))

    def _assistant(self, data: dict[str, Any], when: datetime | None) -> None:
        text = (_str(data.get("content")) or "").strip()
        if text:
            self.builder.add(Turn("assistant", text, timestamp=when))
        requests = data.get("toolRequests")
        for request in requests if isinstance(requests, list) else []:
            if isinstance(request, dict):
                name = request.get("name") or request.get("toolName")
                self._call(request.get("toolCallId"), name, request.get("arguments"), when)

    def _call(self, call_id: object, name: object, args: object, when: datetime | None) -> None:
        tool = _str(name) or "tool"
        if isinstance(call_id, str):
            _remember(self._names, call_id, tool)
        summary, paths = summarize_args(args)
        self.builder.add(Turn("tool_call", "", tool, summary, timestamp=when, paths=paths))

    def _result(self, data: dict[str, Any], when: datetime | None) -> None:
        call_id = data.get("toolCallId")
        if isinstance(call_id, str) and not self._first("call:" + call_id):
            return
        failed = data.get("success") is False
        if failed:
            error = data.get("error")
            text = _str(error.get("message")) if isinstance(error, dict) else _str(error)
            text = text or "tool failed"
        else:
            result = data.get("result")
            content = result.get("content") if isinstance(result, dict) else result
            text = result_text(content)
        name = self._names.get(call_id) if isinstance(call_id, str) else None
        self.builder.add(Turn("tool_result", text, name, is_error=failed, timestamp=when))

    def _first(self, ident: object) -> bool:
        """True the first time `ident` is seen (an event without an id is always new)."""
        if not isinstance(ident, str):
            return True
        if ident in self._seen:
            return False
        _remember(self._seen, ident, None)
        return True


def _remember(table: dict[str, Any], key: str, value: Any) -> None:
    if len(table) >= _MAX_REMEMBERED:
        table.pop(next(iter(table)))
    table[key] = value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
