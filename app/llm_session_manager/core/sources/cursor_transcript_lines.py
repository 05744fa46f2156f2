"""What one Cursor agent transcript says, gathered line by line (formats.md §3.2).

`.jsonl` lines are `{role, message: {content: [blocks]}}` with Claude-API-style blocks (`text`,
`tool_use {name, input}`, `tool_result {content, is_error}`, `thinking`) and `{type: "turn_ended",
status}`; a `.txt` transcript is blocks of lines (see `cursor_transcript_text.py`). Neither
records a time, an id, a model or a token count, so:
- tokens are the text counted with the offline tokenizer (`counted`): the user's messages and the
  tool results as input, the replies, their reasoning and their tool calls' arguments as output;
- times come from the file's mtime (the source's job), except the first prompt's own
  `<timestamp>` tag when it has one.

The turn stands done when the last line is `turn_ended`. Only a file that has shown a
`turn_ended` line is trusted to write one: one that never did (an older build, or a `.txt`)
tells nothing about its turn. Everything kept is JSON-able, so `dump()` / `from_state()` restore
an equal accumulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from llm_session_manager.core.similarity import count_words, note_file
from llm_session_manager.core.sources.accumulator_state import (
    check_version,
    restore_fields,
    versioned_copy,
)
from llm_session_manager.core.sources.cursor_transcript_text import (
    TOOL_CALL,
    TOOL_RESULT,
    USER,
    body_field,
    prompt_text,
    prompt_time,
    text_step,
)
from llm_session_manager.core.sources.json_values import FIRST_PROMPT_CHARS, as_dict, as_str
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args

STATE_VERSION = 1
# turn_ended statuses that mean the turn failed; others ("success", "aborted", ...) do not.
_ERROR_STATUSES = frozenset({"error", "failed", "failure"})
_PATH_FIELDS = frozenset({"path", "file_path", "filePath", "target_file", "targetFile",
                          "absolute_path"})  # fmt: skip
_FIELDS = (
    "text_format", "prompts", "replies", "input", "output", "first_prompt", "started",
    "last_record", "saw_turn_end", "tool_calls", "tool_errors", "api_errors", "last_error",
    "files", "words", "section", "first_lines",
)


class TranscriptAccumulator:
    """Facts of one transcript file. `text_format`: a `.txt` transcript, else `.jsonl`."""

    def __init__(self, text_format: bool, count: Callable[[str], int]) -> None:
        self._count = count
        self.text_format = text_format
        self.prompts = 0
        self.replies = 0
        self.input = 0
        self.output = 0
        self.first_prompt: str | None = None
        self.started: float | None = None  # epoch seconds, from the first prompt's tag
        self.last_record: str | None = None  # "user" | "assistant" | "turn_ended"
        self.saw_turn_end = False
        self.tool_calls = 0
        self.tool_errors = 0
        self.api_errors = 0
        self.last_error: str | None = None
        self.files: list[str] = []
        self.words: dict[str, int] = {}
        self.section: str | None = None  # .txt: the block being read
        self.first_lines: list[str] | None = None  # .txt: the first prompt while it is read

    # -- FileAccumulator ------------------------------------------------------------------

    def feed(self, line: bytes) -> None:
        if self.text_format:
            self._feed_text(line.decode("utf-8").rstrip("\r"))
            return
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        self._feed_record(record)

    def dump(self) -> dict[str, Any]:
        return versioned_copy({name: getattr(self, name) for name in _FIELDS}, STATE_VERSION)

    @classmethod
    def from_state(
        cls, state: dict[str, Any], count: Callable[[str], int]
    ) -> TranscriptAccumulator:
        check_version(state, STATE_VERSION, "Cursor transcript")
        acc = cls(bool(state.get("text_format")), count)
        restore_fields(acc, state, "Cursor transcript", _FIELDS)
        return acc

    # -- what the facts read --------------------------------------------------------------

    @property
    def prompt(self) -> str | None:
        """The first prompt, also while a `.txt` transcript is still writing it."""
        if self.first_prompt is None and self.first_lines:
            return prompt_text("\n".join(self.first_lines))[:FIRST_PROMPT_CHARS] or None
        return self.first_prompt

    @property
    def turn_hint(self) -> str | None:
        if not self.saw_turn_end or self.last_record is None:
            return None
        return "turn_done" if self.last_record == "turn_ended" else "working"

    # -- .jsonl ---------------------------------------------------------------------------

    def _feed_record(self, record: dict[str, Any]) -> None:
        if record.get("type") == "turn_ended":
            self.last_record = "turn_ended"
            self.saw_turn_end = True
            status = as_str(record.get("status"))
            if status and status.lower() in _ERROR_STATUSES:
                self.api_errors += 1
                error = as_str(as_dict(record.get("error")).get("message"))
                self.last_error = error or as_str(record.get("error")) or f"turn {status}"
            return
        role = record.get("role")
        content = as_dict(record.get("message")).get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or role not in ("user", "assistant"):
            return  # a record of a kind not known yet: nothing to count
        if role == "user":
            self._user_blocks(blocks)
        else:
            self._assistant_blocks(blocks)
        self.last_record = role

    def _user_blocks(self, blocks: list[Any]) -> None:
        texts: list[str] = []
        for block in map(as_dict, blocks):
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block.get("type") == "tool_result":
                self.input += self._count(result_text(block.get("content")))
                if block.get("is_error") is True:
                    self.tool_errors += 1
        message = "\n".join(texts)
        self.input += self._count(message)
        if prompt_text(message):  # a message of tool results only is no prompt
            self._prompt(message)

    def _assistant_blocks(self, blocks: list[Any]) -> None:
        for block in map(as_dict, blocks):
            kind = block.get("type")
            if kind == "text":
                self.output += self._count(as_str(block.get("text")) or "")
            elif kind == "thinking":
                self.output += self._count(as_str(block.get("thinking")) or "")
            elif kind == "tool_use":
                self.tool_calls += 1
                args = block.get("input")
                self.output += self._count(result_text(args))
                for path in summarize_args(args)[1]:
                    note_file(self.files, path)
        self.replies += 1

    def _prompt(self, message: str) -> None:
        self.prompts += 1
        text = prompt_text(message)
        count_words(self.words, text)
        if self.first_prompt is None:
            self.first_prompt = text[:FIRST_PROMPT_CHARS]
            when = prompt_time(message)
            self.started = when.timestamp() if when else None

    # -- .txt -----------------------------------------------------------------------------

    def _feed_text(self, line: str) -> None:
        self.section, kind, value = text_step(self.section, line)
        if kind == "role":
            self._end_first_prompt()
            if value == USER:
                self.prompts += 1
                if self.first_prompt is None:
                    self.first_lines = []
            else:
                self.replies += 1
            self.last_record = value
        elif kind == "tool_call":
            self.tool_calls += 1
            self.output += self._count(value)
        elif kind == "marker" and value:  # `[Thinking] …` may begin its text on the marker's line
            self._text_line(value)
        elif kind == "text":
            self._text_line(line)

    def _text_line(self, line: str) -> None:
        tokens = self._count(line)
        if self.section in (USER, TOOL_RESULT):
            self.input += tokens
        else:
            self.output += tokens
        if self.section == USER:
            # Per line, without the tags around the prompt (they are not the user's words).
            count_words(self.words, prompt_text(line).replace("</user_query>", ""))
            if self.first_lines is not None and (
                    sum(len(text) for text in self.first_lines) < 4 * FIRST_PROMPT_CHARS):
                self.first_lines.append(line)
        elif self.section == TOOL_CALL:
            field = body_field(line)
            if field is not None and field[0] in _PATH_FIELDS:
                note_file(self.files, field[1])

    def _end_first_prompt(self) -> None:
        if self.first_lines is None:
            return
        message = "\n".join(self.first_lines)
        self.first_lines = None
        text = prompt_text(message)
        if text:
            self.first_prompt = text[:FIRST_PROMPT_CHARS]
            when = prompt_time(message)
            self.started = when.timestamp() if when else None
