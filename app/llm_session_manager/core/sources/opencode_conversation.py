"""An opencode session's conversation: its messages, and each message's parts in order.

A message (`message.data`) says who spoke and how the request ended (`error`, `summary` for a
compaction); its parts hold what was said and done: `text` (a `synthetic` text is opencode's own
injection, e.g. a file's contents, not the user's words), `tool` (`tool`, `state: {status, input,
output, error}`), and markers (`step-start`, `step-finish`, `reasoning`, `file`, ...) that are
left out. A subagent (the `task` tool) runs in a child session; its messages are merged in by
time and marked as a subagent's, as its tokens count for the parent.

Sources: the database the facts came from (read-only, one read transaction, one message and its
parts in memory at a time), or, for the older `storage/` layout, the message files listed in the
facts and their `storage/part/<message>/` folders.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.opencode_db import columns, json_object, open_readonly
from llm_session_manager.core.sources.opencode_facts import clean_prompt
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args

# A user pressing Esc is not an error of the session (as in opencode_facts).
_ABORTED = "MessageAbortedError"


def read_conversation(session_id: str, paths: Sequence[str]) -> Conversation:
    if not paths:
        return Conversation(unavailable="no opencode record is known for this session")
    if paths[0].endswith(".db"):
        return _from_database(paths[0], session_id)
    return _from_storage(paths)


# -- the database ---------------------------------------------------------------------------


def _from_database(path: str, session_id: str) -> Conversation:
    builder = ConversationBuilder()
    try:
        with open_readonly(path) as db:
            sessions = _family(db, session_id)
            marks = ",".join("?" * len(sessions))
            order = "time_created, id" if "time_created" in columns(db, "message") else "id"
            has_parts = bool(columns(db, "part"))
            rows = db.execute(
                f"SELECT id, session_id, data FROM message WHERE session_id IN ({marks}) "
                f"ORDER BY {order}", sessions)  # fmt: skip
            for mid, sid, raw in rows:
                data = json_object(raw)
                if data is None:
                    builder.skipped_lines += 1
                    continue
                parts = _db_parts(db, mid) if has_parts else iter(())
                builder.extend(message_turns(data, parts, subagent=sid != session_id))
    except sqlite3.Error as exc:
        return Conversation(unavailable=f"the opencode database cannot be read now ({exc})")
    return builder.build()


def _family(db: sqlite3.Connection, root: str) -> list[str]:
    """The session and its subagents' sessions (children, their children, ...)."""
    if "parent_id" not in columns(db, "session"):
        return [root]
    children: dict[str, list[str]] = {}
    for sid, parent in db.execute("SELECT id, parent_id FROM session WHERE parent_id IS NOT NULL"):
        children.setdefault(str(parent), []).append(str(sid))
    family, queue = [root], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in family:
                family.append(child)
                queue.append(child)
    return family


def _db_parts(db: sqlite3.Connection, message_id: str) -> Iterator[dict[str, Any]]:
    for (raw,) in db.execute("SELECT data FROM part WHERE message_id = ? ORDER BY id",
                             (message_id,)):  # fmt: skip
        part = json_object(raw)
        if part is not None:
            yield part


# -- the older storage/ files ---------------------------------------------------------------


def _from_storage(paths: Sequence[str]) -> Conversation:
    messages: list[tuple[int, str, dict[str, Any]]] = []
    for path in paths:
        if Path(path).parent.parent.name != "message":
            continue  # the session file
        data = _load(path)
        if data is not None:
            created = _obj(data.get("time")).get("created")
            messages.append((created if isinstance(created, int) else 0, path, data))
    messages.sort(key=lambda item: item[:2])
    builder = ConversationBuilder()
    for _, path, data in messages:
        message = Path(path)
        part_dir = message.parents[2] / "part" / message.stem
        parts = (p for p in (_load(f) for f in _files(part_dir)) if p is not None)
        builder.extend(message_turns(data, parts))
    return builder.build()


def _files(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.path for e in entries if e.name.endswith(".json") and e.is_file())
    except OSError:
        return []


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            return json_object(handle.read())
    except OSError:
        return None


# -- turns ----------------------------------------------------------------------------------


def message_turns(
    data: Mapping[str, Any], parts: Iterable[Mapping[str, Any]], subagent: bool = False
) -> list[Turn]:
    role = data.get("role")
    when = _ms(_obj(data.get("time")).get("created"))
    out: list[Turn] = []
    if role == "assistant" and (data.get("summary") is True or data.get("mode") == "compaction"):
        out.append(Turn("compaction", "conversation compacted", timestamp=when, subagent=subagent))
    for part in parts:
        out += _part_turns(part, role, when, subagent)
    error = data.get("error")
    if role == "assistant" and isinstance(error, Mapping):
        if error.get("name") == _ABORTED:
            out.append(Turn("system", "the reply was aborted", timestamp=when, subagent=subagent))
        else:
            out.append(Turn("error", _error_text(error), is_error=True, timestamp=when,
                            subagent=subagent))  # fmt: skip
    return out


def _part_turns(
    part: Mapping[str, Any], role: object, when: datetime | None, subagent: bool
) -> list[Turn]:
    kind = part.get("type")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str) or not text.strip() or part.get("synthetic"):
            return []
        at = _ms(_obj(part.get("time")).get("start")) or when
        if role == "user":
            return [Turn("user", clean_prompt(text), timestamp=at, subagent=subagent)]
        return [Turn("assistant", text.strip(), timestamp=at, subagent=subagent)]
    if kind != "tool":
        return []
    name = part.get("tool") if isinstance(part.get("tool"), str) and part.get("tool") else "tool"
    state = _obj(part.get("state"))
    times = _obj(state.get("time"))
    start = _ms(times.get("start")) or when
    summary, paths = summarize_args(state.get("input"))
    out = [Turn("tool_call", "", str(name), summary, timestamp=start, paths=paths,
                subagent=subagent)]  # fmt: skip
    status = state.get("status")
    end = _ms(times.get("end")) or start
    if status == "completed":
        out.append(Turn("tool_result", result_text(state.get("output")), str(name),
                        timestamp=end, subagent=subagent))  # fmt: skip
    elif status == "error":
        text = result_text(state.get("error")) or "tool failed"
        out.append(Turn("tool_result", text, str(name), is_error=True, timestamp=end,
                        subagent=subagent))  # fmt: skip
    return out


def _error_text(error: Mapping[str, Any]) -> str:
    data = _obj(error.get("data"))
    message = data.get("message")
    name = str(error.get("name") or "error")
    return f"{name}: {message}" if isinstance(message, str) and message else name


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
