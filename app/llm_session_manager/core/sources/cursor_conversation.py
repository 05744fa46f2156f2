"""A Cursor conversation, read from the `state.vscdb` its facts came from (`facts.paths`).

Where the bubbles are depends on the layout (see `cursor_records.py`):
- the global database: `composerData:<id>` lists the live bubbles in
  `fullConversationHeadersOnly`; each is fetched as its own `bubbleId:<id>:<bubble>` row, one
  at a time, so a long conversation is never held whole (an older global document keeps them
  inline in `conversation`);
- a workspace database: the composer's inline `conversation` in `composer.composerData`, or a
  chat tab of `workbench.panel.aichat.view.aichat.chatdata`.
A bubble of type 1 is the user's, type 2 the assistant's; an assistant bubble may carry a tool
call (`toolFormerData`: name, params, result, status) and an error (`errorDetails`). The database
is opened read-only with a short busy timeout; a busy database is said, not waited for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.cursor_db import (
    DbBusy,
    DbError,
    item_values,
    kv_value,
    open_readonly,
    tables,
)
from llm_session_manager.core.sources.cursor_records import error_text, header_bubble_ids
from llm_session_manager.core.sources.json_values import as_dict, as_list, as_str, to_time
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args

COMPOSERS_KEY = "composer.composerData"
CHAT_KEY = "workbench.panel.aichat.view.aichat.chatdata"


def read_conversation(session_id: str, db: str, timeout: float) -> Conversation:
    builder = ConversationBuilder()
    try:
        with open_readonly(db, timeout) as conn:
            names = tables(conn)
            found = False
            if "cursorDiskKV" in names:
                found = _global(conn, session_id, builder)
            if not found and "ItemTable" in names:
                found = _workspace(conn, session_id, builder)
    except DbBusy:
        return Conversation(unavailable="Cursor is writing its database; try again")
    except DbError as exc:
        return Conversation(unavailable=f"the Cursor database cannot be read ({exc.message})")
    if not found:
        return Conversation(unavailable="the conversation is no longer in Cursor's database")
    return builder.build()


def _global(conn: Any, cid: str, builder: ConversationBuilder) -> bool:
    doc = _json(kv_value(conn, f"composerData:{cid}"), builder)
    if doc is None:
        return False
    ids = header_bubble_ids(doc)
    if not ids:
        _add_bubbles(as_list(doc.get("conversation")), builder)
        return True
    for bubble_id in ids:  # the live conversation, in order; rewound bubbles are not listed
        bubble = _json(kv_value(conn, f"bubbleId:{cid}:{bubble_id}"), builder)
        if bubble is not None:
            builder.extend(bubble_turns(bubble))
    return True


def _workspace(conn: Any, session_id: str, builder: ConversationBuilder) -> bool:
    values = item_values(conn, (COMPOSERS_KEY, CHAT_KEY))
    composers = _json(values.get(COMPOSERS_KEY), builder) or {}
    for item in as_list(composers.get("allComposers")):
        doc = as_dict(item)
        if doc.get("composerId") == session_id:
            _add_bubbles(as_list(doc.get("conversation")), builder)
            return True
    chat = _json(values.get(CHAT_KEY), builder) or {}
    for item in as_list(chat.get("tabs")):
        tab = as_dict(item)
        if tab.get("tabId") == session_id:
            builder.extend(_tab_turns(as_list(tab.get("bubbles"))))
            return True
    return False


def _add_bubbles(bubbles: list[Any], builder: ConversationBuilder) -> None:
    for bubble in bubbles:
        builder.extend(bubble_turns(as_dict(bubble)))


def bubble_turns(doc: Mapping[str, Any]) -> list[Turn]:
    """The turns of one composer bubble: its text, its tool call and result, its error."""
    kind = doc.get("type")
    if kind not in (1, 2):
        return []
    timing = as_dict(doc.get("timingInfo"))
    when = (to_time(doc.get("createdAt")) or to_time(timing.get("clientEndTime"))
            or to_time(timing.get("clientRpcSendTime")))  # fmt: skip
    text = (as_str(doc.get("text")) or "").strip()
    if kind == 1:
        return [Turn("user", text, timestamp=when)] if text else []
    out = [Turn("assistant", text, timestamp=when)] if text else []
    tool = as_dict(doc.get("toolFormerData"))
    if tool:
        out += _tool_turns(tool, when)
    error = error_text(doc.get("errorDetails"))
    if error:
        out.append(Turn("error", error, is_error=True, timestamp=when))
    return out


def _tool_turns(tool: dict[str, Any], when: datetime | None) -> list[Turn]:
    name = as_str(tool.get("name")) or "tool"
    args = tool.get("params") if tool.get("params") is not None else tool.get("rawArgs")
    summary, paths = summarize_args(args)
    out = [Turn("tool_call", "", name, summary, timestamp=when, paths=paths)]
    status = tool.get("status")
    result = tool.get("result")
    failed = status == "error"
    if result is not None or failed:
        text = result_text(result) or error_text(tool.get("error")) or ""
        out.append(Turn("tool_result", text, name, is_error=failed, timestamp=when))
    return out


def _tab_turns(bubbles: list[Any]) -> Iterator[Turn]:
    """Chat-tab bubbles ("user" / "ai"); the tab's last, empty user bubble is its input box."""
    for item in bubbles:
        doc = as_dict(item)
        kind = doc.get("type")
        text = (as_str(doc.get("text")) or as_str(doc.get("rawText")) or "").strip()
        when = to_time(doc.get("createdAt"))
        if kind in ("user", "ai") and text:
            yield Turn("user" if kind == "user" else "assistant", text, timestamp=when)
        error = error_text(doc.get("errorDetails")) or error_text(doc.get("aiStreamingError"))
        if kind == "ai" and error:
            yield Turn("error", error, is_error=True, timestamp=when)


def _json(value: bytes | str | None, builder: ConversationBuilder) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        builder.skipped_lines += 1
        return None
    return data if isinstance(data, dict) else None
