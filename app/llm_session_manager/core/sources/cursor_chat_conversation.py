"""A cursor-agent chat store's conversation (formats.md §3.3), read-only, a message at a time.

The messages are walked from the current root in order (`cursor_chat_blobs.walk`), each blob read
when it is reached, so memory holds one message and the bounded conversation. What the user typed
is the prompt (attached context is left out); reasoning is left out as for the other agents; the
system prompt is Cursor's. No message records a time, so no turn has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.cursor_chat_blobs import children, is_message, walk
from llm_session_manager.core.sources.cursor_chat_messages import result_of, typed
from llm_session_manager.core.sources.cursor_chats import MAX_MESSAGES, read_meta
from llm_session_manager.core.sources.cursor_db import DbError, open_readonly
from llm_session_manager.core.sources.json_values import as_dict, as_list, as_str
from llm_session_manager.core.sources.tool_summary import summarize_args


def read_chat_conversation(db: str, timeout: float) -> Conversation:
    builder = ConversationBuilder()
    try:
        with open_readonly(db, timeout) as conn:
            meta = read_meta(conn)
            root_id = as_str(meta.get("latestRootBlobId")) if meta else None
            if root_id is None:
                return Conversation(unavailable="the chat store names no conversation")

            def visit(blob_id: str) -> tuple[Sequence[str], Sequence[bytes]] | None:
                row = conn.execute("SELECT data FROM blobs WHERE id = ?", (blob_id,)).fetchone()
                if row is None or row[0] is None:
                    return None
                data = row[0].encode() if isinstance(row[0], str) else bytes(row[0])
                return ((), (data,)) if is_message(data) else children(data)

            for data in walk(root_id, visit, MAX_MESSAGES):
                try:
                    message = orjson.loads(data)
                except orjson.JSONDecodeError:
                    builder.skipped_lines += 1
                    continue
                builder.extend(_turns(as_dict(message)))
    except DbError as exc:
        return Conversation(unavailable=f"the chat store cannot be read ({exc.message})")
    return builder.build()


def _turns(message: dict[str, Any]) -> list[Turn]:
    role = message.get("role")
    content = message.get("content")
    if role == "user":
        texts = [content] if isinstance(content, str) else [
            as_str(as_dict(p).get("text")) or "" for p in as_list(content)]
        prompt = typed("\n".join(texts))
        return [Turn("user", prompt)] if prompt else []
    if role == "assistant":
        if isinstance(content, str):
            return [Turn("assistant", content)] if content.strip() else []
        return [turn for part in as_list(content) if (turn := _reply_part(as_dict(part)))]
    if role == "tool":
        if isinstance(content, str):
            return [Turn("tool_result", content)]
        return [
            Turn("tool_result", result_of(part.get("result")), tool=as_str(part.get("toolName")),
                 is_error=part.get("isError") is True)
            for part in map(as_dict, as_list(content)) if part.get("type") == "tool-result"
        ]  # fmt: skip
    return []


def _reply_part(part: dict[str, Any]) -> Turn | None:
    kind = part.get("type")
    if kind == "text":
        text = as_str(part.get("text"))
        return Turn("assistant", text) if text and text.strip() else None
    if kind == "tool-call":
        summary, paths = summarize_args(part.get("args"))
        return Turn("tool_call", tool=as_str(part.get("toolName")), tool_input=summary,
                    paths=paths)  # fmt: skip
    return None  # reasoning, and parts of kinds not known yet
