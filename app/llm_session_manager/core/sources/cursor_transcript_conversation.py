"""A Cursor agent transcript's conversation (formats.md §3.2), streamed line by line.

The main transcript is the conversation; subagents' transcripts are the model's own errands and
their work shows as the main one's tool calls. A `.jsonl` line is one message of text, tool calls,
tool results and thinking (left out, as for the other agents); `turn_ended` with a failed status
is an error turn. A `.txt` transcript is read through the same sections as its facts
(`text_step`): a block's lines become one turn when the next block starts. User messages show
what the user typed (`prompt_text`). No line records a time, so no turn has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.cursor_transcript_files import is_subagent
from llm_session_manager.core.sources.cursor_transcript_text import (
    ASSISTANT,
    TOOL_CALL,
    TOOL_RESULT,
    USER,
    body_field,
    prompt_text,
    text_step,
)
from llm_session_manager.core.sources.json_values import as_dict, as_str
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

_ERROR_STATUSES = frozenset({"error", "failed", "failure"})


def read_transcript_conversation(paths: Sequence[str]) -> Conversation:
    main = next((p for p in paths if not is_subagent(p)), None)
    if main is None:
        return Conversation(unavailable="the transcript is gone")
    builder = ConversationBuilder()
    text = _TextReader(builder) if main.endswith(".txt") else None
    on_line: Callable[[bytes], None] = (
        text.feed if text is not None else lambda line: _jsonl_line(line, builder))
    try:
        result = read_appended(main, Cursor(), FileStat.of(main), on_line)
    except OSError as exc:
        return Conversation(unavailable=f"the transcript cannot be read ({exc.strerror or exc})")
    if text is not None:
        text.flush()
    builder.skipped_lines += result.bad_line_count
    return builder.build()


def _jsonl_line(line: bytes, builder: ConversationBuilder) -> None:
    record = orjson.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if record.get("type") == "turn_ended":
        status = as_str(record.get("status"))
        if status and status.lower() in _ERROR_STATUSES:
            builder.add(Turn("error", f"turn {status}", is_error=True))
        return
    content = as_dict(record.get("message")).get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    role = record.get("role")
    if isinstance(blocks, list) and role in (USER, ASSISTANT):
        builder.extend(_block_turns(role, blocks))


def _block_turns(role: str, blocks: list[Any]) -> list[Turn]:
    turns: list[Turn] = []
    texts: list[str] = []
    for block in map(as_dict, blocks):
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "tool_use":
            name = as_str(block.get("name")) or "tool"
            summary, paths = summarize_args(block.get("input"))
            turns.append(Turn("tool_call", "", name, summary, paths=paths))
        elif kind == "tool_result":
            turns.append(Turn("tool_result", result_text(block.get("content")),
                              is_error=block.get("is_error") is True))  # fmt: skip
    message = "\n".join(texts)
    said = prompt_text(message) if role == USER else message.strip()
    if said:
        turns.insert(0, Turn("user" if role == USER else "assistant", said))
    return turns


class _TextReader:
    """Groups a `.txt` transcript's lines into turns: prose, tool calls and their results."""

    def __init__(self, builder: ConversationBuilder) -> None:
        self._builder = builder
        self._section: str | None = None
        self._part: str | None = None  # what the lines being gathered are
        self._tool: str | None = None
        self._lines: list[str] = []

    def feed(self, raw: bytes) -> None:
        line = raw.decode("utf-8").rstrip("\r")
        section, kind, value = text_step(self._section, line)
        self._section = section
        if kind in ("role", "tool_call", "marker"):
            self.flush()
            self._part = section
            if kind == "tool_call":
                self._tool = value
            return
        if kind != "text":
            return
        if section != self._part:  # a body ended at a line back at the margin: prose again
            self.flush()
            self._part = section
        self._lines.append(line)

    def flush(self) -> None:
        text = "\n".join(self._lines).strip()
        part, lines = self._part, self._lines
        self._lines = []
        if part == USER and prompt_text(text):
            self._builder.add(Turn("user", prompt_text(text)))
        elif part == ASSISTANT and text:
            self._builder.add(Turn("assistant", text))
        elif part == TOOL_CALL:
            fields = dict(f for f in map(body_field, lines) if f is not None)
            summary, paths = summarize_args(fields) if fields else (text or None, ())
            self._builder.add(Turn("tool_call", "", self._tool or "tool", summary, paths=paths))
        elif part == TOOL_RESULT:
            self._builder.add(Turn("tool_result", text, self._tool))
