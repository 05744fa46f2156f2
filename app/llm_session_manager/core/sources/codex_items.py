"""What a Codex rollout's items and errors say, as short text for the window and the brief."""

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
