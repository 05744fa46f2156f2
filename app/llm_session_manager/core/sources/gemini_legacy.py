"""The older Gemini CLI session shape, one JSON document per file, read a line at a time.

Before the JSONL recorder Gemini CLI wrote `session-*.json` as one pretty-printed document
(`{sessionId, projectHash, startTime, lastUpdated, messages: [...], summary?}`). The poller hands
sources complete lines, so this scanner follows the document's nesting across lines and hands out
each top-level member as soon as it is complete, and each element of `messages` on its own: memory
holds one message at a time, never the document.

JSON strings cannot hold a raw newline, so every line can be tokenised on its own; only the
nesting depth and the text of the message being collected carry over between lines. A document
written on a single line is parsed whole (the poller already holds that line). These files are no
longer written by current clients (a resumed legacy session is migrated to `.jsonl`), so a file
that is rewritten in place and grows is not re-read from its start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_COLON = re.compile(rb"\s*:\s*")
MAX_MESSAGE_BYTES = 16 << 20

OnItem = Callable[[str, Any], None]


class LegacyScanner:
    def __init__(self) -> None:
        self.depth = 0
        self.in_messages = False
        self.key: str | None = None  # the top-level member whose value is being read
        self.captured: str | None = None  # text of the message element being collected
        self.done = False

    def dump(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def restore(cls, state: dict[str, Any]) -> LegacyScanner:
        scanner = cls()
        if set(state) != set(vars(scanner)):
            raise KeyError(f"gemini legacy scanner state has fields {sorted(state)}")
        scanner.depth = int(state["depth"])
        scanner.in_messages = bool(state["in_messages"])
        scanner.key = None if state["key"] is None else str(state["key"])
        scanner.captured = None if state["captured"] is None else str(state["captured"])
        scanner.done = bool(state["done"])
        return scanner

    def feed(self, line: bytes, on_item: OnItem) -> None:
        if self.done:
            raise ValueError("text after the end of the session document")
        if self.depth == 0:
            stripped = line.strip()
            if not stripped.startswith(b"{"):
                raise ValueError("not a Gemini session document")
            if stripped.endswith(b"}") and self._whole(stripped, on_item):
                return
        start = 0 if self.captured is not None else None
        for match in _TOKEN.finditer(line):
            token = match.group()
            if token[0] == 0x22:  # a string: at depth 1 it may be a member's key
                if self.depth == 1:
                    self._on_key(line, match, on_item)
                continue
            if token in (b"{", b"["):
                self.depth += 1
                if self.depth == 2 and token == b"[" and self.key == "messages":
                    self.in_messages = True
                elif self.depth == 3 and self.in_messages and token == b"{":
                    self.captured, start = "", match.start()
                continue
            if self.depth == 3 and self.in_messages and token == b"}" and start is not None:
                text = (self.captured or "") + line[start:match.end()].decode()
                self.captured, start = None, None
                on_item("messages", orjson.loads(text))
            self.depth -= 1
            if self.depth < 0:
                raise ValueError("unbalanced brackets in the session document")
            if self.depth == 1:
                self.in_messages = False
            if self.depth == 0:
                self.done = True
        if self.captured is not None and start is not None:
            self.captured += line[start:].decode() + "\n"
            if len(self.captured) > MAX_MESSAGE_BYTES:
                raise ValueError("message in the session document over the size limit")

    def _on_key(self, line: bytes, match: re.Match[bytes], on_item: OnItem) -> None:
        colon = _COLON.match(line, match.end())
        if colon is None:
            return  # a string value, not a key
        self.key = orjson.loads(match.group())
        rest = line[colon.end():].strip().rstrip(b",")
        if not rest or rest[:1] in (b"{", b"["):
            return  # a nested value: only `messages` is read, element by element
        try:
            value = orjson.loads(rest)
        except orjson.JSONDecodeError:
            return  # a scalar followed by more members on this line: not the pretty shape
        if self.key is not None:
            on_item(self.key, value)

    def _whole(self, text: bytes, on_item: OnItem) -> bool:
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False  # the first line of a pretty-printed document
        if not isinstance(document, dict):
            raise ValueError("session document is not a JSON object")
        for key, value in document.items():
            if key == "messages" and isinstance(value, list):
                for message in value:
                    on_item("messages", message)
            else:
                on_item(key, value)
        self.done = True
        return True
