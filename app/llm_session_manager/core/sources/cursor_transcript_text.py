"""The pieces of a Cursor agent transcript's text (formats.md §3.2). Pure functions; no I/O.

A user message carries more than what the user typed: newer builds start it with the time it was
sent (`<timestamp>Friday, Jul 17, 2026, 12:26 AM (UTC+9)</timestamp>`), and the typed words may be
wrapped in `<user_query>…</user_query>` beside attached context (agentsview reads them so). The
title and the first prompt are the typed words; tokens are counted on the whole message, since
all of it is sent to the model.

A `.txt` transcript is blocks: a line `user:` or `assistant:` opens one; inside an assistant block
`[Tool call] <name>`, `[Tool result]` and `[Thinking]` open an indented body, which ends at the next
marker or at a line back at the left margin (the reply's prose goes on). `text_step` tells, line by
line, which part a line belongs to, so the facts and the conversation read the format alike.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_TIMESTAMP = re.compile(r"\A\s*<timestamp>(?P<when>.*?)</timestamp>\s*", re.DOTALL)
_QUERY_OPEN, _QUERY_CLOSE = "<user_query>", "</user_query>"
# "Friday, Jul 17, 2026, 12:26 AM (UTC+9)": the weekday and the zone's minutes are optional.
_WHEN = re.compile(
    r"(?:[A-Za-z]+,\s*)?(?P<month>[A-Za-z]{3})[A-Za-z]*\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4}),?"
    r"\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<half>[AaPp][Mm])?"
    r"\s*\((?:UTC|GMT)(?:(?P<sign>[+-])(?P<zh>\d{1,2})(?::?(?P<zm>\d{2}))?)?\)"
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

# Sections of a .txt transcript.
USER, ASSISTANT = "user", "assistant"
TOOL_CALL, TOOL_RESULT, THINKING = "tool_call", "tool_result", "thinking"
_BODIES = frozenset({TOOL_CALL, TOOL_RESULT, THINKING})
_MARKERS = (("[Tool call]", TOOL_CALL), ("[Tool result]", TOOL_RESULT), ("[Thinking]", THINKING))


def prompt_text(message: str) -> str:
    """What the user typed: without the leading `<timestamp>` tag, and inside the
    `<user_query>` wrapper when there is one (an unclosed one runs to the end)."""
    text = _TIMESTAMP.sub("", message, count=1)
    start = text.find(_QUERY_OPEN)
    if start >= 0:
        start += len(_QUERY_OPEN)
        end = text.find(_QUERY_CLOSE, start)
        text = text[start:end] if end >= 0 else text[start:]
    return text.strip()


def prompt_time(message: str) -> datetime | None:
    """When a message was sent, from its leading `<timestamp>` tag; None without a readable one
    (a time without its zone cannot be placed, so it is not guessed)."""
    tag = _TIMESTAMP.match(message)
    found = _WHEN.search(tag.group("when")) if tag else None
    if found is None:
        return None
    month = _MONTHS.get(found["month"].lower())
    hour = int(found["hour"])
    if found["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found["half"].lower() == "pm" else 0)
    offset = timedelta(hours=int(found["zh"] or 0), minutes=int(found["zm"] or 0))
    if found["sign"] == "-":
        offset = -offset
    try:
        local = datetime(int(found["year"]), month or 0, int(found["day"]), hour,
                         int(found["minute"]), int(found["second"] or 0),
                         tzinfo=timezone(offset))  # fmt: skip
    except ValueError:  # no such month, day or hour, or a zone beyond ±24 h
        return None
    return local.astimezone(UTC)


def text_step(section: str | None, line: str) -> tuple[str | None, str, str]:
    """Read one `.txt` line in `section`: (the section after it, what the line is, its value).

    What the line is: "role" (value: "user" or "assistant"), "tool_call" (value: the tool's
    name), "marker" (a tool result or thinking starts), "text" (value: the line), or "skip"
    (before the first role line).
    """
    stripped = line.strip()
    if stripped in ("user:", "assistant:"):
        role = stripped[:-1]
        return role, "role", role
    if section is None:
        return None, "skip", ""
    if section != USER:
        for marker, opened in _MARKERS:
            if stripped.startswith(marker):
                value = stripped[len(marker):].strip()
                return opened, "tool_call" if opened == TOOL_CALL else "marker", value
        if section in _BODIES and stripped and not line[:1].isspace():
            section = ASSISTANT  # a line back at the margin ends the body: prose again
    return section, "text", line


def body_field(line: str) -> tuple[str, str] | None:
    """`key=value` or `key: value` of a tool call's body line, as agentsview reads them."""
    key, sep, value = line.strip().partition("=")
    if not sep:
        key, sep, value = line.strip().partition(":")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value or not key.replace("_", "").isalnum():
        return None
    return key, value
