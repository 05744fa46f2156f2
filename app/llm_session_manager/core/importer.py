"""Reading an export document back: parse it, check every field, refuse naming the field.

Documents come from other machines and other people, so nothing in them is trusted: the text is
parsed within limits by `core.import_parse` (size, aliases, tags, depth, lengths), then checked
here against schema version 1 field by field, every refusal an `ImportRejected` naming the
field. The result is normalised (times in the export's fixed form, facts re-encoded by the
codec), so exporting what was imported gives the same document. Nothing here writes anything;
`prepare_import` only returns what should be stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llm_session_manager.core.codec import facts_from_dict, facts_to_dict
from llm_session_manager.core.conversation import MAX_TURNS, TURN_ROLES
from llm_session_manager.core.errors import ImportRejected
from llm_session_manager.core.export import KIND, SCHEMA_VERSION, timestamp
from llm_session_manager.core.import_parse import MAX_BYTES, MAX_STRING, kind_name, parse_text
from llm_session_manager.core.models import SessionFacts, SessionKey

__all__ = ["MAX_BYTES", "MAX_STRING", "PreparedImport", "parse_document", "prepare_import",
           "validate"]  # the limits are re-exported: callers need not know the parser module

MAX_TAGS = 100
MAX_ID = 200
_LEVELS = ("healthy", "warning", "critical")


@dataclass(frozen=True)
class PreparedImport:
    """What an import stores: the session's facts, the user's data, and the document itself."""

    key: SessionKey
    facts: SessionFacts
    tags: tuple[str, ...]
    project: str | None
    notes: str | None
    document: dict[str, Any]


def parse_document(text: str, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The validated, normalised document in `text` (JSON or YAML). Raises ImportRejected."""
    return validate(parse_text(text, max_bytes=max_bytes))


def prepare_import(document: dict[str, Any], session_id: str | None = None) -> PreparedImport:
    """The session to store for a validated document, under `session_id` when given."""
    session = document["session"]
    new_id = session["session_id"] if session_id is None else _session_id(session_id, "session_id")
    key = SessionKey(session["agent"], new_id)
    facts = facts_from_dict(session["facts"])
    if new_id != facts.key.session_id:
        facts = _with_key(facts, key)
        document = {**document, "session": {**session, "session_id": new_id,
                                             "facts": facts_to_dict(facts)}}  # fmt: skip
    return PreparedImport(
        key, facts, tuple(session["tags"]), session["project"], session["notes"], document
    )


# -- the schema ----------------------------------------------------------------------------------


def validate(data: Any) -> dict[str, Any]:
    """The document with each field checked; times normalised to the export's fixed form."""
    doc = _object(data, "document", ("schema_version", "kind", "exported_at", "exported_by",
                                     "redaction", "session", "conversation", "brief"))  # fmt: skip
    version = _int(doc["schema_version"], "schema_version")
    if version != SCHEMA_VERSION:
        raise ImportRejected(
            "schema_version",
            f"version {version} is not supported (this app reads {SCHEMA_VERSION})",
        )
    if doc["kind"] != KIND:
        raise ImportRejected("kind", f"expected {KIND!r}, got {doc['kind']!r}")
    redaction = _object(doc["redaction"], "redaction", ("applied", "count"))
    return {
        "schema_version": version,
        "kind": KIND,
        "exported_at": _time(doc["exported_at"], "exported_at"),
        "exported_by": _str(doc["exported_by"], "exported_by", limit=200),
        "redaction": {
            "applied": _bool(redaction["applied"], "redaction.applied"),
            "count": _count(redaction["count"], "redaction.count"),
        },
        "session": _session(doc["session"]),
        "conversation": _conversation(doc["conversation"]),
        "brief": _str(doc["brief"], "brief"),
    }


def _session(value: Any) -> dict[str, Any]:
    s = _object(value, "session", ("agent", "session_id", "state", "project", "tags", "notes",
                                   "cost_usd", "health", "facts"))  # fmt: skip
    agent = _str(s["agent"], "session.agent", limit=100)
    if not agent or not all(c.isalnum() or c in "-_." for c in agent):
        raise ImportRejected("session.agent", f"not an agent name: {agent!r}")
    session_id = _session_id(s["session_id"], "session.session_id")
    tags = _list(s["tags"], "session.tags", MAX_TAGS)
    clean_tags = [_str(t, f"session.tags[{i}]", limit=100) for i, t in enumerate(tags)]
    for i, tag in enumerate(clean_tags):
        if not tag.strip() or tag != tag.strip():
            raise ImportRejected(f"session.tags[{i}]", "blank or padded with spaces")
    cost = s["cost_usd"]
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)
                             or cost < 0):  # fmt: skip
        raise ImportRejected("session.cost_usd", f"expected a number ≥ 0 or null, got {cost!r}")
    facts = _facts(s["facts"])
    if (facts["key"]["agent"], facts["key"]["session_id"]) != (agent, session_id):
        raise ImportRejected("session.facts.key", "does not match session.agent/session_id")
    return {
        "agent": agent,
        "session_id": session_id,
        "state": _opt(s["state"], "session.state", _str),
        "project": _opt(s["project"], "session.project", lambda v, w: _str(v, w, limit=500)),
        "tags": clean_tags,
        "notes": _opt(s["notes"], "session.notes", _str),
        "cost_usd": cost,
        "health": _opt(s["health"], "session.health", _health),
        "facts": facts,
    }


# The facts' fields are the codec's; its template gives the allowed keys of each object.
_FACTS_TEMPLATE = facts_to_dict(SessionFacts(SessionKey("a", "b")))
_NESTED = {"key": None, "usage": None, "context": None, "errors": None}


def _facts(value: Any) -> dict[str, Any]:
    d = _object(value, "session.facts", tuple(_FACTS_TEMPLATE), optional=True)
    for name in _NESTED:
        if isinstance(d.get(name), dict):
            _object(d[name], f"session.facts.{name}", tuple(_FACTS_TEMPLATE[name]), optional=True)
    for i, item in enumerate(d.get("by_model") or []):
        _object(item, f"session.facts.by_model[{i}]", ("model", "usage"))
    try:
        facts = facts_from_dict(d)
    except ValueError as exc:
        message = str(exc)
        field, sep, rest = message.partition(": ")
        if sep:
            raise ImportRejected(f"session.facts.{field}", rest) from None
        raise ImportRejected("session.facts", message) from None
    return facts_to_dict(facts)


def _health(value: Any, where: str) -> dict[str, Any]:
    h = _object(value, where, ("score", "level", "factors"))
    score = _number(h["score"], f"{where}.score", 0, 100)
    if h["level"] not in _LEVELS:
        raise ImportRejected(f"{where}.level", f"expected one of {', '.join(_LEVELS)}")
    factors = []
    for i, item in enumerate(_list(h["factors"], f"{where}.factors", 20)):
        w = f"{where}.factors[{i}]"
        f = _object(item, w, ("name", "raw", "score", "weight", "reason"))
        factors.append({
            "name": _str(f["name"], f"{w}.name", limit=100),
            "raw": _str(f["raw"], f"{w}.raw", limit=500),
            "score": _number(f["score"], f"{w}.score", 0, 100),
            "weight": _number(f["weight"], f"{w}.weight", 0, 1),
            "reason": _str(f["reason"], f"{w}.reason", limit=2_000),
        })  # fmt: skip
    return {"score": score, "level": h["level"], "factors": factors}


def _conversation(value: Any) -> dict[str, Any]:
    c = _object(value, "conversation", ("turns", "omitted_turns", "skipped_lines", "note"))
    turns = _list(c["turns"], "conversation.turns", MAX_TURNS)
    return {
        "turns": [_turn(t, f"conversation.turns[{i}]") for i, t in enumerate(turns)],
        "omitted_turns": _count(c["omitted_turns"], "conversation.omitted_turns"),
        "skipped_lines": _count(c["skipped_lines"], "conversation.skipped_lines"),
        "note": _opt(c["note"], "conversation.note", _str),
    }


def _turn(value: Any, where: str) -> dict[str, Any]:
    t = _object(value, where, ("role", "text", "tool", "tool_input", "is_error", "timestamp",
                               "subagent", "paths"))  # fmt: skip
    if t["role"] not in TURN_ROLES:
        raise ImportRejected(f"{where}.role", f"expected one of {', '.join(TURN_ROLES)}, "
                                              f"got {t['role']!r}")  # fmt: skip
    paths = _list(t["paths"], f"{where}.paths", 100)
    return {
        "role": t["role"],
        "text": _str(t["text"], f"{where}.text"),
        "tool": _opt(t["tool"], f"{where}.tool", lambda v, w: _str(v, w, limit=200)),
        "tool_input": _opt(t["tool_input"], f"{where}.tool_input", _str),
        "is_error": _bool(t["is_error"], f"{where}.is_error"),
        "timestamp": _opt(t["timestamp"], f"{where}.timestamp", _time),
        "subagent": _bool(t["subagent"], f"{where}.subagent"),
        "paths": [_str(p, f"{where}.paths[{i}]", limit=4_096) for i, p in enumerate(paths)],
    }


# -- field helpers -------------------------------------------------------------------------------


def _object(
    value: Any, where: str, fields: tuple[str, ...], *, optional: bool = False
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportRejected(where, f"expected an object, got {kind_name(value)}")
    for name in value:
        if name not in fields:
            raise ImportRejected(_join(where, name), "unknown field")
    if not optional:
        for name in fields:
            if name not in value:
                raise ImportRejected(_join(where, name), "missing")
    return value


def _join(where: str, name: str) -> str:
    return name if where == "document" else f"{where}.{name}"


def _opt(value: Any, where: str, check: Callable[[Any, str], Any]) -> Any:
    return None if value is None else check(value, where)


def _str(value: Any, where: str, limit: int = MAX_STRING) -> str:
    if not isinstance(value, str):
        raise ImportRejected(where, f"expected text, got {kind_name(value)}")
    if len(value) > limit:
        raise ImportRejected(where, f"text of {len(value):,} characters; the limit is {limit:,}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ImportRejected(where, f"expected true or false, got {kind_name(value)}")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportRejected(where, f"expected an integer, got {kind_name(value)}")
    return value


def _count(value: Any, where: str) -> int:
    number = _int(value, where)
    if number < 0:
        raise ImportRejected(where, f"expected a count ≥ 0, got {number}")
    return number


def _number(value: Any, where: str, low: float, high: float) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ImportRejected(where, f"expected a number, got {kind_name(value)}")
    if not low <= value <= high:
        raise ImportRejected(where, f"expected a number from {low:g} to {high:g}, got {value}")
    return value


def _time(value: Any, where: str) -> str:
    text = _str(value, where, limit=64)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ImportRejected(where, f"not an ISO 8601 time: {text!r}") from None
    if parsed.tzinfo is None:
        raise ImportRejected(where, f"time without a zone: {text!r}")
    return timestamp(parsed) or text


def _session_id(value: Any, where: str) -> str:
    text = _str(value, where, limit=MAX_ID)
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        raise ImportRejected(where, f"not a usable session ID: {text!r} (empty, or with spaces)")
    return text


def _list(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ImportRejected(where, f"expected a list, got {kind_name(value)}")
    if len(value) > limit:
        raise ImportRejected(where, f"has {len(value):,} items; the limit is {limit:,}")
    return value


def _with_key(facts: SessionFacts, key: SessionKey) -> SessionFacts:
    from dataclasses import replace

    return replace(facts, key=key)
