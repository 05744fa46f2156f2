"""A Claude Code session's conversation, read from its transcripts one line at a time.

The files are the session's `SessionFacts.paths`: main transcripts and subagent transcripts.
Each is streamed through `core.tail` (bounded lines, never the whole file in memory) into its
own bounded builder; the files' turns are then merged by time, so a subagent's work appears
where it happened, marked as a subagent's.

Claude Code writes one line per content block of a streamed reply, all under one `message.id`,
and a resumed or `/btw` session may copy earlier messages again: blocks are kept once per
(message id, block), and lines once per `uuid`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import orjson

from llm_session_manager.core.conversation import (
    Conversation,
    ConversationBuilder,
    Turn,
    TurnRole,
)
from llm_session_manager.core.sources.claude_lines import (
    SYNTHETIC_MODEL,
    blocks_text,
    parse_ts,
    to_datetime,
)
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

# Bounds for the dedupe memory: a session needs far fewer; a runaway file cannot exhaust memory.
_MAX_TOOL_NAMES = 5_000
_WRAPPERS = ("<command-name>", "<local-command-stdout>", "<local-command-stderr>", "<bash-")
_SKIPPED_WRAPPERS = ("<local-command-caveat>", "<system-reminder>", "<command-message>")
# Tool input fields that say what a call acts on, the most telling first.
_SUMMARY_FIELDS = (
    "command", "file_path", "notebook_path", "path", "pattern", "url", "query", "description",
)  # fmt: skip
_PATH_FIELDS = ("file_path", "notebook_path", "path")


def read_conversation(paths: Sequence[str]) -> Conversation:
    seen = _Seen()
    per_file: list[tuple[int, Conversation]] = []
    for index, path in enumerate(paths):
        subagent_file = f"{os.sep}subagents{os.sep}" in path or "/subagents/" in path
        per_file.append((index, _read_file(path, subagent_file, seen)))
    merged: list[tuple[float, int, int, Turn]] = []
    omitted = skipped = 0
    for index, conv in per_file:
        omitted += conv.omitted_turns
        skipped += conv.skipped_lines
        last = 0.0
        for seq, turn in enumerate(conv.turns):
            # A turn without a time sorts right after the turn before it in its own file.
            last = turn.timestamp.timestamp() if turn.timestamp is not None else last
            merged.append((last, index, seq, turn))
    merged.sort(key=lambda item: item[:3])
    builder = ConversationBuilder()
    builder.skipped_lines = skipped
    builder.extend(turn for *_, turn in merged)
    return builder.build(omitted_before=omitted)


class _Seen:
    """What was already turned into turns, across the session's files."""

    def __init__(self) -> None:
        self.uuids: set[str] = set()
        self.blocks: set[tuple[str, str]] = set()
        self.tool_names: dict[str, str] = {}

    def tool_name(self, tool_use_id: object) -> str | None:
        return self.tool_names.get(tool_use_id) if isinstance(tool_use_id, str) else None

    def remember_tool(self, tool_use_id: object, name: str) -> None:
        if isinstance(tool_use_id, str):
            if len(self.tool_names) >= _MAX_TOOL_NAMES:
                self.tool_names.pop(next(iter(self.tool_names)))
            self.tool_names[tool_use_id] = name


def _read_file(path: str, subagent_file: bool, seen: _Seen) -> Conversation:
    builder = ConversationBuilder()

    def on_line(line: bytes) -> None:
        record = orjson.loads(line)
        if isinstance(record, dict):
            for turn in _turns(record, subagent_file, seen):
                builder.add(turn)

    try:
        result = read_appended(path, Cursor(), FileStat.of(path), on_line)
    except OSError:
        # A file deleted or unreadable since the poll: say so rather than fail the export.
        return Conversation(skipped_lines=1)
    builder.skipped_lines = result.bad_line_count
    return builder.build()


def _turns(record: dict[str, Any], subagent_file: bool, seen: _Seen) -> list[Turn]:
    kind = record.get("type")
    if kind not in ("user", "assistant", "system"):
        return []
    uuid = record.get("uuid")
    if isinstance(uuid, str):
        if uuid in seen.uuids:
            return []
        seen.uuids.add(uuid)
    when = to_datetime(parse_ts(record.get("timestamp")))
    sub = subagent_file or record.get("isSidechain") is True
    if kind == "system":
        return _system(record, when, sub)
    message = record.get("message")
    if not isinstance(message, dict):
        return []
    if kind == "assistant":
        return _assistant(record, message, when, sub, seen)
    return _user(record, message, when, sub, seen)


def _system(record: dict[str, Any], when: Any, sub: bool) -> list[Turn]:
    if record.get("subtype") == "compact_boundary":
        meta = record.get("compactMetadata")
        meta = meta if isinstance(meta, dict) else {}
        trigger = meta.get("trigger")
        pre, post = meta.get("preTokens"), meta.get("postTokens")
        text = "conversation compacted"
        if isinstance(trigger, str):
            text += f" ({trigger})"
        if isinstance(pre, int):
            text += f": {pre} tokens before" + (f", {post} after" if isinstance(post, int) else "")
        return [Turn("compaction", text, timestamp=when, subagent=sub)]
    if record.get("level") == "error":
        content = record.get("content")
        text = content if isinstance(content, str) and content else "error"
        return [Turn("error", text, is_error=True, timestamp=when, subagent=sub)]
    return []


def _assistant(
    record: dict[str, Any], message: dict[str, Any], when: Any, sub: bool, seen: _Seen
) -> list[Turn]:
    content = message.get("content")
    if record.get("isApiErrorMessage") is True:
        text = blocks_text(content).strip() or "API error"
        return [Turn("error", text, is_error=True, timestamp=when, subagent=sub)]
    synthetic = message.get("model") == SYNTHETIC_MODEL
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    message_id = message.get("id")
    out: list[Turn] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        fingerprint = _fingerprint(block)
        if isinstance(message_id, str) and fingerprint is not None:
            if (message_id, fingerprint) in seen.blocks:
                continue  # a streamed or replayed copy of a block already taken
            seen.blocks.add((message_id, fingerprint))
        btype = block.get("type")
        if btype == "text" and isinstance(block.get("text"), str) and block["text"].strip():
            # The CLI's own replies ("No response requested.") are not the model's words.
            role: TurnRole = "system" if synthetic else "assistant"
            out.append(Turn(role, block["text"], timestamp=when, subagent=sub))
        elif btype == "tool_use":
            raw_name = block.get("name")
            name = raw_name if isinstance(raw_name, str) and raw_name else "tool"
            seen.remember_tool(block.get("id"), name)
            summary, paths = _summarize_input(block.get("input"))
            out.append(Turn("tool_call", "", name, summary, timestamp=when, subagent=sub,
                            paths=paths))  # fmt: skip
    return out


def _user(
    record: dict[str, Any], message: dict[str, Any], when: Any, sub: bool, seen: _Seen
) -> list[Turn]:
    content = message.get("content")
    if record.get("isCompactSummary") is True:
        return [Turn("system", "compaction summary: " + blocks_text(content).strip(),
                     timestamp=when, subagent=sub)]  # fmt: skip
    if record.get("isMeta") is True:
        return []  # caveats and injected nudges the CLI writes, not the user's words
    out: list[Turn] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                text = blocks_text(block.get("content"), ("text",)).strip()
                is_error = block.get("is_error") is True
                name = seen.tool_name(block.get("tool_use_id"))
                out.append(Turn("tool_result", text, name, is_error=is_error, timestamp=when,
                                subagent=sub))  # fmt: skip
    text = blocks_text(content).strip()
    if text and not text.startswith(_SKIPPED_WRAPPERS):
        kind: TurnRole = "system" if text.startswith(_WRAPPERS) else "user"
        out.append(Turn(kind, _unwrap(text) if kind == "system" else text, timestamp=when,
                        subagent=sub))  # fmt: skip
    return out


def _unwrap(text: str) -> str:
    """`<command-name>/compact</command-name>…` -> `/compact`; stdout wrappers -> their text."""
    for tag in ("command-name", "local-command-stdout", "local-command-stderr", "bash-input",
                "bash-stdout", "bash-stderr"):  # fmt: skip
        start = text.find(f"<{tag}>")
        end = text.find(f"</{tag}>")
        if start >= 0 and end > start:
            inner = text[start + len(tag) + 2 : end].strip()
            return f"{tag.replace('-', ' ')}: {inner}" if inner else tag.replace("-", " ")
    return text


def _fingerprint(block: dict[str, Any]) -> str | None:
    btype, ident, text = block.get("type"), block.get("id"), block.get("text")
    if btype == "tool_use" and isinstance(ident, str):
        return "tool_use:" + ident
    if btype == "text" and isinstance(text, str):
        return "text:" + text
    return None


def _summarize_input(value: object) -> tuple[str | None, tuple[str, ...]]:
    """What the call acts on: the command, the file, the pattern (the first the tool has), else
    its input as compact JSON."""
    if not isinstance(value, dict):
        return (None, ()) if value is None else (orjson.dumps(value).decode(), ())
    paths = tuple(value[k] for k in _PATH_FIELDS if isinstance(value.get(k), str) and value[k])
    for name in _SUMMARY_FIELDS:
        field = value.get(name)
        if isinstance(field, str) and field:
            return field, paths
    return orjson.dumps(value).decode(), paths
