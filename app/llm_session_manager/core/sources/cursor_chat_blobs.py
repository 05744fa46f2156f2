"""The blobs of a cursor-agent chat store (`~/.cursor/chats/<md5(workspace)>/<id>/store.db`,
formats.md §3.3). Pure decoding; the reads are `cursor_chat_store.py`'s.

`blobs(id, data)` is content-addressed (`id` = SHA-256 of `data`). A message is a JSON blob
(`{"role": …, "content": …}`, Vercel AI SDK style). The conversation is a tree of linking blobs in
protobuf wire format, whose field 1 repeats the 32-byte ids of the children in order; the meta
row's `latestRootBlobId` names the current root. The root also carries a snapshot of what the
context holds now: a message with the total at one varint field, the window at another, and one
entry per part (`{1: name, 2: label, 3: tokens, 4: characters}`).

The field numbers are a closed program's internals, so nothing here trusts a number alone: the
context total is only believed where a message lists at least two entry-shaped parts whose tokens
add up to one of its own varints (and the window is a varint beside it that is larger), and a
linking blob that does not decode as protobuf is read the way public readers do, as a run of
`0x0A 0x20 <id>` references. Anything else is "not found", never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_CHILD_FIELD = 1
_ID_BYTES = 32
_MAX_DEPTH = 64  # linking blobs nest a few levels; a deeper chain is not a conversation
_BREAKDOWN_DEPTH = 12

Field = tuple[int, int, "int | bytes"]
_T = TypeVar("_T")


def wire_fields(buf: bytes) -> list[Field] | None:
    """The top-level (field number, wire type, value) triples of a protobuf message; None when
    `buf` is not one (truncated, or a wire type no message here uses)."""
    out: list[Field] = []
    i, size = 0, len(buf)
    while i < size:
        key, i = _varint(buf, i)
        if key is None:
            return None
        number, wire = key >> 3, key & 7
        if number == 0:
            return None
        if wire == _VARINT:
            value, i = _varint(buf, i)
            if value is None:
                return None
            out.append((number, wire, value))
        elif wire == _BYTES:
            length, i = _varint(buf, i)
            if length is None or i + length > size:
                return None
            out.append((number, wire, buf[i : i + length]))
            i += length
        elif wire in (_FIXED64, _FIXED32):
            i += 8 if wire == _FIXED64 else 4
            if i > size:
                return None
        else:
            return None  # groups (3, 4) are obsolete; 6 and 7 do not exist
    return out


def _varint(buf: bytes, i: int) -> tuple[int | None, int]:
    result = shift = 0
    while i < len(buf):
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            return None, i
    return None, i


def is_message(data: bytes) -> bool:
    return data[:1] == b"{"


def children(data: bytes) -> tuple[list[str], list[bytes]]:
    """A linking blob's child ids (hex, in order) and any JSON messages embedded in it."""
    fields = wire_fields(data)
    if fields is None:
        return _scan_children(data)
    ids: list[str] = []
    embedded: list[bytes] = []
    for number, wire, value in fields:
        if wire != _BYTES or not isinstance(value, bytes):
            continue
        if number == _CHILD_FIELD and len(value) == _ID_BYTES:
            ids.append(value.hex())
        elif is_message(value) and _is_chat_message(value):
            embedded.append(value)
    return ids, embedded


def _scan_children(data: bytes) -> tuple[list[str], list[bytes]]:
    ids: list[str] = []
    at = 0
    while at + 2 + _ID_BYTES <= len(data) and data[at] == 0x0A and data[at + 1] == _ID_BYTES:
        ids.append(data[at + 2 : at + 2 + _ID_BYTES].hex())
        at += 2 + _ID_BYTES
    start = data.find(b"{", at)
    tail = data[start:] if start >= 0 else b""
    return ids, [tail] if tail and _is_chat_message(tail) else []


def _is_chat_message(data: bytes) -> bool:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "role" in value


def walk(
    root_id: str, visit: Callable[[str], tuple[Sequence[str], Sequence[_T]] | None], limit: int
) -> Iterator[_T]:
    """The items under `root_id` in conversation order, at most `limit`: `visit(blob_id)` gives a
    blob's child ids and its own items (a message blob: no children, itself), or None for a blob
    that is missing.

    A blob named twice is read twice: blobs are content-addressed, so the same prompt sent twice
    ("continue") is one blob the tree names at two places. Content addressing also rules out a
    cycle; a chain deeper than `_MAX_DEPTH` or more than `limit` blobs of links is cut short.
    """
    count = visits = 0
    # Depth first with an explicit stack (children pushed in reverse keep their order), so a
    # long conversation cannot exhaust Python's recursion limit.
    stack: list[tuple[str, int]] = [(root_id, 0)]
    while stack and count < limit and visits < 2 * limit:
        blob_id, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        visits += 1
        found = visit(blob_id)
        if found is None:
            continue
        ids, items = found
        for item in items[: limit - count]:
            count += 1
            yield item
        stack.extend((child, depth + 1) for child in reversed(ids))


@dataclass(frozen=True)
class ContextSnapshot:
    tokens: int
    window: int | None


def context_snapshot(root: bytes) -> ContextSnapshot | None:
    """What the root says the context holds now; None where no message proves it (see above)."""
    return _breakdown(root, 0)


def _breakdown(buf: bytes, depth: int) -> ContextSnapshot | None:
    if depth > _BREAKDOWN_DEPTH:
        return None
    fields = wire_fields(buf)
    if fields is None:
        return None
    parts = [tokens for _n, wire, value in fields
             if wire == _BYTES and isinstance(value, bytes)
             and (tokens := _part_tokens(value)) is not None]  # fmt: skip
    if len(parts) >= 2 and (total := sum(parts)) > 0:
        varints = [(n, v) for n, wire, v in fields if wire == _VARINT and isinstance(v, int)]
        stated = [n for n, v in varints if v == total]
        if stated:
            # The window is stated beside the total: the one other varint larger than it.
            larger = [v for n, v in varints if n not in stated and v > total]
            return ContextSnapshot(total, larger[0] if len(larger) == 1 else None)
    for _n, wire, value in fields:
        if wire == _BYTES and isinstance(value, bytes) and len(value) > 2:
            found = _breakdown(value, depth + 1)
            if found is not None:
                return found
    return None


def _part_tokens(buf: bytes) -> int | None:
    """Tokens of one context entry `{1: name, 2: label, 3?: tokens, 4?: characters}`; None for a
    message of any other shape."""
    fields = wire_fields(buf)
    if not fields:
        return None
    names = {n for n, wire, v in fields if wire == _BYTES and n in (1, 2) and _utf8(v)}
    if names != {1, 2}:
        return None
    tokens = 0
    for number, wire, value in fields:
        if number in (1, 2) and wire == _BYTES:
            continue
        if number in (3, 4) and wire == _VARINT and isinstance(value, int):
            tokens = value if number == 3 else tokens
            continue
        return None
    return tokens


def _utf8(value: object) -> bool:
    if not isinstance(value, bytes):
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_meta(value: object) -> dict[str, Any] | None:
    """The meta row's value: hex of a JSON object (as written), or the JSON itself."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        raw = bytes.fromhex(text) if not text.startswith("{") else text.encode()
        doc = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None
