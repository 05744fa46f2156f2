"""A Codex thread's conversation, read from its rollout one line at a time.

What each kind of line gives (as Codex 0.169 writes them, and older versions where they differ):
- prompts: `event_msg/user_message` (older) or `item_completed` UserMessage items (0.169). The
  `response_item` user messages are not used: they also carry the injected environment and
  instructions blocks, which are not the user's words.
- replies and tool calls: `response_item` messages (assistant), `function_call`,
  `custom_tool_call` (apply_patch), `local_shell_call`, `web_search_call`, and their outputs.
- failures: `item_completed` items with `status: failed` / a non-zero `exit_code`,
  `exec_command_end`, `patch_apply_end`; these mark the matching output as an error.
- errors: `event_msg/error`, `task_complete` with `error`, `turn_aborted` (once per turn).
- compactions: `compacted`, `event_msg/context_compacted`, `response_item/compaction` (one
  compaction may be written as several of these; consecutive ones count once).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

_MAX_REMEMBERED_CALLS = 1_000
_EXIT_CODE = re.compile(r"(?:Process exited with code|exit code:?)\s+(-?\d+)")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.MULTILINE)


def read_conversation(paths: Sequence[str]) -> Conversation:
    """The conversation of one thread. Its files are copies of one history: read the newest."""
    existing: list[tuple[float, str]] = []
    for path in paths:
        try:
            existing.append((os.stat(path).st_mtime, path))
        except OSError:
            continue
    if not existing:
        return Conversation(unavailable="the rollout file is gone")
    _, path = max(existing)
    reader = _Reader()
    try:
        result = read_appended(path, Cursor(), FileStat.of(path), reader.feed)
    except OSError:
        return Conversation(unavailable="the rollout file cannot be read")
    reader.builder.skipped_lines = result.bad_line_count
    return reader.builder.build()


class _Reader:
    def __init__(self) -> None:
        self.builder = ConversationBuilder()
        self._names: dict[str, str] = {}  # call id -> tool name
        self._failed: dict[str, bool] = {}  # call id -> failed, from events before the output
        self._turn_error = False
        self._last_user: str | None = None

    def feed(self, line: bytes) -> None:
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        payload = record.get("payload")
        if not isinstance(payload, dict):
            return
        ts = record.get("timestamp")
        when = parse_time(ts) if isinstance(ts, str) else None
        kind = record.get("type")
        if kind == "response_item":
            self._item(payload, when)
        elif kind == "event_msg":
            self._event(payload, when)
        elif kind == "compacted":
            self._compaction(when)

    # -- response items --------------------------------------------------------------------

    def _item(self, p: dict[str, Any], when: datetime | None) -> None:
        ptype = p.get("type")
        if ptype == "message" and p.get("role") == "assistant":
            text = _content_text(p.get("content"))
            if text:
                self._add(Turn("assistant", text, timestamp=when))
        elif ptype in ("function_call", "custom_tool_call"):
            name = _str(p.get("name")) or "tool"
            raw = p.get("arguments") if ptype == "function_call" else p.get("input")
            summary, paths = _summarize(name, raw)
            self._call(p.get("call_id"), name, summary, paths, when)
        elif ptype == "local_shell_call":
            action = p.get("action")
            command = action.get("command") if isinstance(action, dict) else None
            self._call(p.get("call_id"), "shell", _command_text(command), (), when)
        elif ptype == "web_search_call":
            action = p.get("action")
            query = action.get("query") if isinstance(action, dict) else None
            self._call(None, "web_search", _str(query), (), when)
        elif ptype in ("function_call_output", "custom_tool_call_output"):
            self._output(p.get("call_id"), p.get("output"), when)
        elif ptype == "compaction":
            self._compaction(when)

    def _call(
        self, call_id: object, name: str, summary: str | None, paths: tuple[str, ...],
        when: datetime | None,
    ) -> None:  # fmt: skip
        if isinstance(call_id, str):
            _remember(self._names, call_id, name)
        self._add(Turn("tool_call", "", name, summary, timestamp=when, paths=paths))

    def _output(self, call_id: object, output: object, when: datetime | None) -> None:
        text, failed = _output_text(output)
        if isinstance(call_id, str) and self._failed.get(call_id):
            failed = True
        name = self._names.get(call_id) if isinstance(call_id, str) else None
        self._add(Turn("tool_result", text, name, is_error=failed, timestamp=when))

    # -- events ----------------------------------------------------------------------------

    def _event(self, p: dict[str, Any], when: datetime | None) -> None:
        etype = p.get("type")
        if etype in ("task_started", "turn_started"):
            self._turn_error = False
            self._last_user = None
        elif etype == "user_message":
            self._user(_str(p.get("message")), when)
        elif etype == "item_completed":
            self._completed(p.get("item"), when)
        elif etype == "exec_command_end":
            code = p.get("exit_code")
            self._mark(p.get("call_id"), isinstance(code, int) and code != 0)
        elif etype == "patch_apply_end":
            self._mark(p.get("call_id"), p.get("success") is False)
        elif etype == "error":
            self._error(_error_text(p), when)
        elif etype in ("task_complete", "turn_complete") and p.get("error"):
            self._error(_error_text(p.get("error")), when)
        elif etype == "turn_aborted":
            reason = _str(p.get("reason"))
            self._error("turn aborted" + (f" ({reason})" if reason else ""), when)
        elif etype == "context_compacted":
            self._compaction(when)

    def _completed(self, item: object, when: datetime | None) -> None:
        if not isinstance(item, dict):
            return
        itype = item.get("type")
        if itype == "UserMessage":
            self._user(_content_text(item.get("content")), when)
        elif isinstance(item.get("id"), str):
            code = item.get("exit_code")
            failed = item.get("status") == "failed" or (isinstance(code, int) and code != 0)
            self._mark(item["id"], failed)

    def _user(self, text: str | None, when: datetime | None) -> None:
        # A version that writes both a user_message event and a UserMessage item for one
        # prompt must show it once.
        if text and text != self._last_user:
            self._last_user = text
            self._add(Turn("user", text, timestamp=when))

    def _mark(self, call_id: object, failed: bool) -> None:
        if isinstance(call_id, str) and failed:
            _remember(self._failed, call_id, True)

    def _error(self, text: str, when: datetime | None) -> None:
        if self._turn_error:
            return  # a failed turn may report its error as an event and in task_complete
        self._turn_error = True
        self._add(Turn("error", text, is_error=True, timestamp=when))

    def _compaction(self, when: datetime | None) -> None:
        last = self.builder.last
        if last is not None and last.role == "compaction":
            return
        self._add(Turn("compaction", "conversation compacted", timestamp=when))

    def _add(self, turn: Turn) -> None:
        self.builder.add(turn)


# -- helpers ---------------------------------------------------------------------------------


def _remember(table: dict[str, Any], key: str, value: Any) -> None:
    if len(table) >= _MAX_REMEMBERED_CALLS:
        table.pop(next(iter(table)))
    table[key] = value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _content_text(content: object) -> str | None:
    if isinstance(content, str):
        return content or None
    if not isinstance(content, list):
        return None
    parts = [c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
    return "\n".join(parts).strip() or None


def _command_text(command: object) -> str | None:
    # Codex records argv, e.g. ["/bin/bash", "-lc", "ls"]: the script is the last element.
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        return command[-1] if len(command) >= 3 and command[-2] in ("-lc", "-c") else " ".join(
            command
        )
    return _str(command)


def _summarize(name: str, raw: object) -> tuple[str | None, tuple[str, ...]]:
    """One line for a call's arguments: the command, the patched files, else compact JSON."""
    if isinstance(raw, str) and name == "apply_patch":
        files = tuple(dict.fromkeys(m.strip() for m in _PATCH_FILE.findall(raw)))
        return ("files: " + ", ".join(files) if files else raw), files
    args: object = raw
    if isinstance(raw, str):
        try:
            args = orjson.loads(raw)
        except ValueError:
            return raw, ()
    if isinstance(args, dict):
        for key in ("cmd", "command"):
            if key in args:
                return _command_text(args[key]), ()
        for key in ("path", "file_path"):
            if isinstance(args.get(key), str):
                return args[key], (args[key],)
    return orjson.dumps(args).decode(), ()


def _output_text(output: object) -> tuple[str, bool]:
    """The output's text and whether it says the call failed."""
    failed = False
    if isinstance(output, dict):
        failed = output.get("success") is False
        output = output.get("content", output.get("output", ""))
    if isinstance(output, list):
        output = _content_text(output) or ""
    text = output if isinstance(output, str) else orjson.dumps(output).decode()
    match = _EXIT_CODE.search(text[:400])
    if match and int(match.group(1)) != 0:
        failed = True
    return text, failed


def _error_text(error: object) -> str:
    """Codex keeps the provider's error body as a JSON string; show its inner message."""
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message:
        return "error"
    try:
        body = orjson.loads(message)
        inner = body["error"]["message"] if isinstance(body, dict) else None
        if isinstance(inner, str):
            return inner
    except (ValueError, KeyError, TypeError):
        pass
    return message
