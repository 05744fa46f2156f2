"""Parsing an import document's text safely: size, JSON or YAML, then the shape of the tree.

- size first (`max_bytes`), before any parsing;
- YAML through a SafeLoader that also refuses aliases (a "billion laughs" document is small on
  disk and huge in memory), explicit tags other than the core ones (`!!python/object` and kin),
  duplicate keys, and nesting deeper than `MAX_DEPTH`;
- JSON parsed with `json` first (exact integers, no YAML type guessing), refusing NaN/Infinity
  and duplicate keys;
- then the whole tree, iteratively: JSON types only, string and list lengths, 64-bit integers.
Every refusal is an `ImportRejected` naming the field ("document" for the text as a whole).
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from llm_session_manager.core.errors import ImportRejected

MAX_BYTES = 32 << 20
MAX_DEPTH = 16  # the schema itself needs 5
MAX_STRING = 100_000
MAX_LIST = 10_000
_I64 = 1 << 63
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


def parse_text(text: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The JSON-typed tree in `text`, within every limit. Raises ImportRejected."""
    size = len(text) if len(text) > max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ImportRejected("document", f"is {size:,} bytes; the limit is {max_bytes:,}")
    data = _parse_json(text) if text.lstrip().startswith(("{", "[")) else _parse_yaml(text)
    _check_tree(data)
    return data


def _parse_json(text: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ImportRejected(key, "appears twice in one object")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ImportRejected("document", f"{name} is not a number JSON allows")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            "document", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ImportRejected("document", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ImportRejected("document", f"not valid JSON: {exc}") from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader minus aliases, non-core tags, duplicate keys and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # unannotated in the stubs
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise ImportRejected("document", f"YAML aliases are not accepted (line {line})")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _CORE_TAGS:
            raise ImportRejected("document", f"YAML tag {tag!r} is not accepted (line {line})")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ImportRejected("document", f"nested deeper than {MAX_DEPTH} levels "
                                                 f"(line {line})")  # fmt: skip
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ImportRejected(str(key), f"appears twice in one mapping (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep)


def _parse_yaml(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        where = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise ImportRejected("document", f"not valid YAML: {exc.problem}{where}") from None
    except yaml.YAMLError as exc:
        raise ImportRejected("document", f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ImportRejected("document", f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def _check_tree(value: Any) -> None:
    """JSON types only, bounded depth, strings, lists and integers; iterative (no recursion)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        where = path or "document"
        if depth > MAX_DEPTH:
            raise ImportRejected(where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ImportRejected(where, f"has a key that is not text: {key!r}")
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(item, list):
            if len(item) > MAX_LIST:
                raise ImportRejected(where, f"has {len(item):,} items; the limit is {MAX_LIST:,}")
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            if len(item) > MAX_STRING:
                raise ImportRejected(
                    where, f"text of {len(item):,} characters; the limit is {MAX_STRING:,}"
                )
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -_I64 <= item < _I64:
                raise ImportRejected(where, "integer out of the 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ImportRejected(where, "not a finite number")
        else:
            raise ImportRejected(where, f"a {kind_name(item)} is not accepted (quote it as text?)")


def kind_name(value: Any) -> str:
    """How a value's type is named in messages (JSON's words, not Python's)."""
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "an integer",
             float: "a number", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)
