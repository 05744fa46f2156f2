"""Replaying VS Code's chat-session change log (`chatSessions/<id>.jsonl`) into its document.

VS Code writes the session document once (`{"kind":0,"v":doc}`) and then appends one line per
change (VS Code's `objectMutationLog`, formats.md §4.1):
- `{"kind":1,"k":path,"v":value}` sets the value at `path`;
- `{"kind":2,"k":path,"v":[items],"i":n}` cuts the array at `path` to `n` items when `i` is given,
  then appends the items (VS Code diffs arrays this way: the common prefix stays);
- `{"kind":3,"k":path}` deletes the value at `path`.
A path is a list of object keys and array indexes. After a few hundred lines VS Code compacts
the log into a new single `kind 0` line.

The file is read line by line with a bound per line, and parts of the document no reader here
uses (rendered prompts, tool results) are dropped as lines are applied, so memory follows what
the facts need rather than the size of the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

MAX_LINE_BYTES = 64 << 20  # agentsview stops at 128 MiB; one change of a chat is far smaller
# Heavy parts of a request that no fact is taken from.
DROPPED_KEYS = frozenset(
    {"renderedUserMessage", "renderedGlobalContext", "toolCallResults", "variableData",
     "contentReferences", "codeCitations", "toolSpecificData", "resultDetails",
     "editedFileEvents"}
)  # fmt: skip


@dataclass
class Replay:
    """The rebuilt document, and what could not be applied (for a Problem)."""

    doc: dict[str, Any] | None = None
    lines: int = 0  # complete, non-blank lines read
    bad_lines: list[int] = field(default_factory=list)
    oversized_lines: list[int] = field(default_factory=list)


def prune(value: Any) -> Any:
    """`value` without the DROPPED_KEYS anywhere inside it (changed in place, and returned)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in DROPPED_KEYS & item.keys():
                del item[key]
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return value


def _lines(handle: IO[bytes], replay: Replay, limit: int) -> Iterator[tuple[int, bytes]]:
    """Complete lines, each at most `limit` bytes; an unfinished last line is left out."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if not line.endswith(b"\n"):
            if len(line) <= limit:
                return  # VS Code is still writing this line: the next change re-reads the file
            replay.oversized_lines.append(number)
            while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the oversized line without holding it
            continue
        if line.strip():
            replay.lines += 1
            yield number, line


def replay_log(handle: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Replay:
    replay = Replay()
    for number, line in _lines(handle, replay, max_line_bytes):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            replay.bad_lines.append(number)
            continue
        if not isinstance(entry, dict):
            replay.bad_lines.append(number)
            continue
        kind = entry.get("kind")
        if kind == 0:
            value = entry.get("v")
            replay.doc = prune(value) if isinstance(value, dict) else None
        elif replay.doc is not None and kind in (1, 2, 3):
            path = entry.get("k")
            if not isinstance(path, list) or not path:
                replay.bad_lines.append(number)
                continue
            apply_entry(replay.doc, kind, path, entry)
    return replay


def _child(node: Any, key: Any) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def apply_entry(doc: dict[str, Any], kind: int, path: list[Any], entry: dict[str, Any]) -> None:
    """Apply one change; a path that leads nowhere (or into a dropped part) changes nothing."""
    if any(key in DROPPED_KEYS for key in path if isinstance(key, str)):
        return
    parent: Any = doc
    for key in path[:-1]:
        parent = _child(parent, key)
        if parent is None:
            return
    last = path[-1]
    if kind == 1:
        _set(parent, last, prune(entry.get("v")))
    elif kind == 3:
        _delete(parent, last)
    else:
        _push(parent, last, entry.get("v"), entry.get("i"))


def _has_slot(parent: Any, key: Any) -> bool:
    """An object key (present or not) or an index inside an array's current length."""
    if isinstance(parent, dict):
        return isinstance(key, str)
    return isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent)


def _set(parent: Any, key: Any, value: Any) -> None:
    if _has_slot(parent, key):
        parent[key] = value


def _delete(parent: Any, key: Any) -> None:
    if isinstance(parent, dict) and isinstance(key, str):
        parent.pop(key, None)
    elif _has_slot(parent, key):
        parent[key] = None  # VS Code sets the slot to undefined; the array keeps its length


def _push(parent: Any, key: Any, items: Any, cut: Any) -> None:
    target = _child(parent, key)
    if target is None:
        target = []
        _set(parent, key, target)
        if _child(parent, key) is not target:
            return
    if not isinstance(target, list):
        return
    if isinstance(cut, int) and not isinstance(cut, bool) and cut >= 0:
        del target[cut:]
    if isinstance(items, list):
        target.extend(prune(items))
