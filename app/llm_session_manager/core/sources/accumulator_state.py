"""An accumulator's saved state: its fields as JSON-able values under a format version.

The poller persists each file's accumulator with its byte offset, so a restart resumes reading
where it stopped. A state of another version, or naming a field the accumulator does not have,
was written by other code: restoring refuses it (ValueError / KeyError) and the file is read
again from its start.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import orjson

VERSION_KEY = "version"


def versioned_copy(fields: Mapping[str, Any], version: int) -> dict[str, Any]:
    """`fields` plus the version, deep-copied through JSON so the dump does not change while
    feeding goes on."""
    state = dict(fields)
    state[VERSION_KEY] = version
    copy: dict[str, Any] = orjson.loads(orjson.dumps(state))
    return copy


def check_version(state: Mapping[str, Any], version: int, what: str) -> None:
    """ValueError unless `state` was saved with `version`."""
    if state.get(VERSION_KEY) != version:
        raise ValueError(f"{what} state version {state.get(VERSION_KEY)!r} not supported")


def restore_fields(
    acc: object,
    state: Mapping[str, Any],
    what: str,
    fields: Collection[str],
    special: Mapping[str, Callable[[Any], None]] | None = None,
) -> None:
    """Set each saved field on `acc`, in the state's order; `special` keys are restored by their
    own function; any other key not in `fields` is a KeyError."""
    for key, value in state.items():
        if key == VERSION_KEY:
            continue
        if special is not None and key in special:
            special[key](value)
            continue
        if key not in fields:
            raise KeyError(f"unknown {what} state field {key!r}")
        setattr(acc, key, value)
