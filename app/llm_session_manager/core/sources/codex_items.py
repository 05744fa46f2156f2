"""What a Codex rollout's items and errors say, as short text for the window and the brief, and
what kind of thread its `session_meta` source names."""

from __future__ import annotations

from typing import Any

import orjson

MESSAGE_CHARS = 300


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def content_text(content: Any) -> str | None:
    """Text of an item's `content` list ([{"type": "text", "text": ...}, ...])."""
    if not isinstance(content, list):
        return text(content)
    parts = [c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
    return "\n".join(parts) or None


def error_message(error: Any) -> str | None:
    """Codex keeps the provider's error body as a JSON string; show its inner message."""
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str):
        return None
    try:
        body = orjson.loads(message)
        inner = body["error"]["message"] if isinstance(body, dict) else None
        if isinstance(inner, str):
            message = inner
    except (ValueError, KeyError, TypeError):
        pass
    return message[:MESSAGE_CHARS]


def item_failure(kind: str, item: dict[str, Any], code: Any) -> str:
    """`command failed (exit 2): ls /nonexistent-dir`, or the item kind when there is no command."""
    what = f"{kind} failed" if kind != "CommandExecution" else "command failed"
    if isinstance(code, int):
        what += f" (exit {code})"
    command = item.get("command")
    # 0.169 records the argv it ran, e.g. ["/bin/bash", "-lc", "ls /nonexistent-dir"].
    shown = command[-1] if isinstance(command, list) and command else command
    if isinstance(shown, str) and shown:
        what += f": {shown}"
    return what[:MESSAGE_CHARS]


def session_source(source: Any) -> tuple[str | None, bool | None]:
    """`session_meta.source` as (kind, spawned): kind is "exec", "vscode", "cli", or the one key
    of an object source (e.g. {"subagent": {"thread_spawn": ...}}); spawned says whether it is a
    thread another thread spawned, None for a plain text source, which cannot be one."""
    if isinstance(source, str):
        return source, None
    if isinstance(source, dict) and source:
        # ccusage tells a sub-agent by `thread_spawn` in a rollout's first 16 KB, which in
        # practice is this line (base_instructions alone is ~20 KB); asking the field itself
        # spares a parent that mentions thread_spawn early.
        return next(iter(source)), b"thread_spawn" in orjson.dumps(source)
    return None, None
