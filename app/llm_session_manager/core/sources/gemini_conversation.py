"""A Gemini CLI session's conversation, streamed from its chat files in two passes.

A chat file is a ledger, not a transcript (see `gemini_chat.py`): a reply with a tool call is
written twice under one message id, `--resume` appends a `$set` of `messages` that replays the
history, and `$rewindTo` drops messages. So the first pass only decides which record of each
message id stands (the last one written directly; a replayed copy only for an id never written
directly; nothing for a rewound id), keeping ids and positions, not messages. The second pass
streams the file again and turns exactly those records into turns. Memory holds one record and
the id table, never the file.

A message replaced in place shows where its standing record was written; the CLI rewrites only
the message it is still building, so that is where it belongs.

The session's files are its main chat (a legacy `.json` migrated on resume to `.jsonl` leaves
two copies of one history: the newest speaks) and its sub-agents' chats, whose turns are merged
in by time and marked as a sub-agent's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.gemini_chat import parts_text
from llm_session_manager.core.sources.gemini_legacy import LegacyScanner
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

# The CLI's own first message: the environment it hands the model, not the user's words.
_SESSION_CONTEXT = "<session_context>"
Position = tuple[int, int]  # (record number, index inside a replayed `messages` list)
OnMessage = Callable[[Position, dict[str, Any], bool], None]  # (where, message, replayed)
OnRewind = Callable[[str], None]


def read_conversation(paths: Sequence[str]) -> Conversation:
    mains = [p for p in paths if not _is_subagent(p)]
    main = _newest(mains)
    if main is None:
        return Conversation(unavailable="the chat file is gone")
    per_file = [(_read_file(main), False)]
    per_file += [(_read_file(p), True) for p in paths if _is_subagent(p)]
    merged: list[tuple[float, int, int, Turn]] = []
    omitted = skipped = 0
    for index, (conv, sub) in enumerate(per_file):
        omitted += conv.omitted_turns
        skipped += conv.skipped_lines
        last = 0.0
        for seq, turn in enumerate(conv.turns):
            # A turn without a time sorts right after the turn before it in its own file.
            last = turn.timestamp.timestamp() if turn.timestamp is not None else last
            merged.append((last, index, seq, replace(turn, subagent=sub) if sub else turn))
    merged.sort(key=lambda item: item[:3])
    builder = ConversationBuilder()
    builder.skipped_lines = skipped
    builder.extend(turn for *_, turn in merged)
    return builder.build(omitted_before=omitted)


def _is_subagent(path: str) -> bool:
    # chats/<parent session id>/<session id>.jsonl; a main chat sits in chats/ itself.
    return os.path.basename(os.path.dirname(os.path.dirname(path))) == "chats"


def _newest(paths: Sequence[str]) -> str | None:
    found: list[tuple[float, bool, str]] = []
    for path in paths:
        try:
            found.append((os.stat(path).st_mtime, path.endswith(".jsonl"), path))
        except OSError:
            continue
    return max(found)[2] if found else None


def _read_file(path: str) -> Conversation:
    standing: dict[str, Position] = {}
    replay_only: set[str] = set()

    def choose(where: Position, msg: dict[str, Any], replayed: bool) -> None:
        msg_id = msg.get("id")
        if not isinstance(msg_id, str):
            return
        if not replayed:
            if msg_id in replay_only:
                replay_only.discard(msg_id)
            standing[msg_id] = where  # keeps its place in the order, takes the newer record
        elif msg_id not in standing:
            standing[msg_id] = where
            replay_only.add(msg_id)

    def rewind(msg_id: str) -> None:
        if msg_id in standing:
            ids = list(standing)
            for dropped in ids[ids.index(msg_id):]:
                del standing[dropped]
                replay_only.discard(dropped)

    try:
        _scan(path, choose, rewind)
    except OSError:
        return Conversation(skipped_lines=1)
    wanted = set(standing.values())
    builder = ConversationBuilder()

    def emit(where: Position, msg: dict[str, Any], replayed: bool) -> None:
        if where in wanted:
            builder.extend(_turns(msg))

    try:
        builder.skipped_lines = _scan(path, emit, lambda _: None)
    except OSError:
        return Conversation(skipped_lines=1)
    return builder.build()


def _scan(path: str, on_message: OnMessage, on_rewind: OnRewind) -> int:
    """Hand every message record of the file to `on_message`; the number of unreadable lines."""
    legacy = LegacyScanner() if path.endswith(".json") else None
    count = 0

    def on_item(key: str, value: Any) -> None:
        nonlocal count
        if key == "messages" and isinstance(value, dict):
            count += 1
            on_message((count, 0), value, False)

    def on_line(line: bytes) -> None:
        nonlocal count
        if legacy is not None:
            legacy.feed(line, on_item)
            return
        count += 1
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        for where, msg, replayed in _messages(count, record):
            on_message(where, msg, replayed)
        rewind = record.get("$rewindTo")
        if isinstance(rewind, str):
            on_rewind(rewind)

    result = read_appended(path, Cursor(), FileStat.of(path), on_line)
    return result.bad_line_count


def _messages(number: int, record: dict[str, Any]) -> Iterator[tuple[Position, dict[str, Any],
                                                                     bool]]:
    patch = record.get("$set")
    if isinstance(patch, dict):
        listed = patch.get("messages")
        for index, msg in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(msg, dict):
                yield (number, index), msg, True
    elif isinstance(record.get("id"), str) and isinstance(record.get("type"), str):
        yield (number, 0), record, False
    elif isinstance(record.get("messages"), list):  # a whole legacy document on one line
        for index, msg in enumerate(record["messages"]):
            if isinstance(msg, dict):
                yield (number, index), msg, False


def _turns(msg: dict[str, Any]) -> list[Turn]:
    kind = msg.get("type")
    ts = msg.get("timestamp")
    when = parse_time(ts) if isinstance(ts, str) else None
    text = (parts_text(msg.get("content")) or "").strip()
    if kind == "user":
        # Parts without text are tool results going back to the model: the reply's tool calls
        # already carry them.
        if text and not text.startswith(_SESSION_CONTEXT):
            return [Turn("user", text, timestamp=when)]
        return []
    if kind == "gemini":
        out = [Turn("assistant", text, timestamp=when)] if text else []
        calls = msg.get("toolCalls")
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict):
                out += _tool_turns(call, when)
        return out
    if kind == "error":
        return [Turn("error", text or "API error", is_error=True, timestamp=when)]
    if kind == "warning" and text:
        return [Turn("system", text, timestamp=when)]
    return []  # info lines are the CLI's chatter


def _tool_turns(call: dict[str, Any], when: datetime | None) -> list[Turn]:
    name = call.get("name")
    name = name if isinstance(name, str) and name else "tool"
    ts = call.get("timestamp")
    at = (parse_time(ts) if isinstance(ts, str) else None) or when
    summary, paths = summarize_args(call.get("args"))
    out = [Turn("tool_call", "", name, summary, timestamp=at, paths=paths)]
    status = call.get("status")
    if status in ("success", "error", "cancelled"):
        text = _result(call.get("result")) or _display(call.get("resultDisplay"))
        if status == "cancelled":
            text = "cancelled" + (f": {text}" if text else "")
        out.append(Turn("tool_result", text, name, is_error=status == "error", timestamp=at))
    return out


def _result(result: object) -> str:
    """The text of `[{functionResponse: {response: {output | error}}}]`."""
    texts: list[str] = []
    for part in result if isinstance(result, list) else []:
        response = part.get("functionResponse") if isinstance(part, dict) else None
        body = response.get("response") if isinstance(response, dict) else None
        if isinstance(body, dict):
            value = body.get("error", body.get("output", body))
            texts.append(result_text(value))
    return "\n".join(t for t in texts if t)


def _display(value: object) -> str:
    return value if isinstance(value, str) else ""
