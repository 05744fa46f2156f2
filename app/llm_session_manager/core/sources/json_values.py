"""Reading loosely typed JSON values the editors write: times as ms or ISO text, counts that may
be missing, null or strings. Every reader returns None (or 0) instead of raising, because these
formats are undocumented and a field of an unexpected type must cost that field only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from llm_session_manager.core.sources.iso_time import parse_time

FIRST_PROMPT_CHARS = 2000  # enough for a brief; bounds what each session keeps in memory
# Epoch milliseconds between 2001 and 2286: anything else is not a time these apps wrote.
_MS_MIN, _MS_MAX = 978_307_200_000, 9_999_999_999_999


def to_time(value: Any) -> datetime | None:
    """A UTC datetime from epoch milliseconds (int/float) or ISO-8601 text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not _MS_MIN <= value <= _MS_MAX:
            return None
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value:
        return parse_time(value.replace("Z", "+00:00"))
    return None


def as_int(value: Any) -> int:
    """A non-negative count, 0 when missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def latest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def earliest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None
