"""The notification rules of the config: which conditions notify, and the quiet hours.

Each reader takes the raw YAML value and returns the value to use with a problem message, or None
when there is nothing to say; config_load.py files the message under the key's path and line.
`describe` is the loader's way of showing a value in a message.
"""

from __future__ import annotations

from collections.abc import Callable

from llm_session_manager.config import NOTIFY_CONDITIONS
from llm_session_manager.core.quiet_hours import FORMAT_HINT, QuietHours, parse_quiet_hours

Describe = Callable[[object], str]


def read_notify_on(value: object, describe: Describe) -> tuple[tuple[str, ...], str | None]:
    """Known conditions are kept and unknown ones reported, so one typo does not silence the
    others; a list with nothing usable in it falls back to the default rather than to silence.
    An empty list is allowed and means that no condition notifies."""
    wanted = " | ".join(NOTIFY_CONDITIONS)
    items = [value] if isinstance(value, str) else value  # "notify_on: critical" is one item
    if not isinstance(items, list):
        return NOTIFY_CONDITIONS, f"expected a list of {wanted}, got {describe(value)}"
    known = tuple(c for c in NOTIFY_CONDITIONS if c in items)  # the config's order, no repeats
    unknown = [item for item in items if item not in NOTIFY_CONDITIONS]
    if not unknown:
        return known, None
    result = known or NOTIFY_CONDITIONS
    named = ", ".join(describe(item) for item in unknown)
    verb = "is not a condition" if len(unknown) == 1 else "are not conditions"
    using = "notifying on" if known else "using the default"
    return result, f"{named} {verb} ({wanted}); {using} {', '.join(result)}"


def read_quiet_hours(value: object, describe: Describe) -> tuple[QuietHours | None, str | None]:
    """A malformed window means no quiet hours (and a problem): missing a popup because of a
    typo would be worse than one popup too many."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        # Unquoted, "22:00" alone is a base-60 number to YAML 1.1: hence "in quotes".
        return None, f"expected {FORMAT_HINT} in quotes, got {describe(value)}; no quiet hours"
    try:
        return parse_quiet_hours(value), None
    except ValueError as exc:
        return None, f"{exc}, got {describe(value)}; no quiet hours"
