"""ISO-8601 timestamps from agents' records -> aware UTC datetimes.

The agents write ISO text with a zone ("Z" or an offset) or, in places, without one; a time
without a zone is taken as UTC. Text that is not a time gives None instead of raising, so a bad
field costs that field only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def parse_time(text: str | None) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text; naive text is UTC; anything else is None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_times(texts: Iterable[str | None]) -> tuple[datetime, ...]:
    """The times among `texts`, in their order; text that is not a time is left out."""
    return tuple(t for t in (parse_time(s) for s in texts) if t is not None)
