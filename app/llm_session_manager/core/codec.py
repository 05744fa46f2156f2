"""`SessionFacts` to and from plain JSON-able dicts: the store's `facts_json` and exports.

Datetimes travel as ISO 8601 UTC strings of fixed width ("2025-01-02T03:04:05.000006Z"), so they
sort as text and decode to aware datetimes equal to the originals. Naive datetimes are refused
on the way out: without a zone the instant is unknown, and an aware and a naive datetime never
compare equal, so the round trip could not hold.

Decoding is lenient where it is safe (a missing field takes the dataclass default, an unknown key
is ignored, so an older row still loads after a field is added) and strict where it is not (a
wrong type raises ValueError naming the field, e.g. "usage.input: expected int, got str").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from llm_session_manager.core.models import (
    Context,
    Errors,
    ModelUsage,
    SessionFacts,
    SessionKey,
    Usage,
    UsageSource,
)

FORMAT_VERSION = 1
_USAGE_SOURCES = ("exact", "counted")


def facts_to_dict(facts: SessionFacts) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "key": {"agent": facts.key.agent, "session_id": facts.key.session_id},
        "title": facts.title,
        "first_prompt": facts.first_prompt,
        "cwd": facts.cwd,
        "git_branch": facts.git_branch,
        "model": facts.model,
        "agent_version": facts.agent_version,
        "started_at": _dt_out(facts.started_at, "started_at"),
        "last_activity_at": _dt_out(facts.last_activity_at, "last_activity_at"),
        "usage": _usage_out(facts.usage),
        "by_model": [{"model": m.model, "usage": _usage_out(m.usage)} for m in facts.by_model],
        "context": {
            "tokens": facts.context.tokens,
            "window": facts.context.window,
            "window_source": facts.context.window_source,
            "compactions": facts.context.compactions,
            "last_pre_tokens": facts.context.last_pre_tokens,
            "last_post_tokens": facts.context.last_post_tokens,
        },
        "errors": {
            "tool": facts.errors.tool,
            "api": facts.errors.api,
            "recent": [
                _dt_out(t, f"errors.recent[{i}]") for i, t in enumerate(facts.errors.recent)
            ],
            "last_message": facts.errors.last_message,
        },
        "prompts": facts.prompts,
        "replies": facts.replies,
        "paths": list(facts.paths),
        "turn_hint": facts.turn_hint,
        "pending_tool": facts.pending_tool,
        "files_touched": list(facts.files_touched),
        "keywords": list(facts.keywords),
        "lineage": facts.lineage,
    }


def facts_from_dict(data: Mapping[str, Any]) -> SessionFacts:
    d = _obj(data, "facts")
    version = d.get("v", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"v: facts format {version!r} is not known (want {FORMAT_VERSION})")
    key = _obj(d.get("key"), "key")
    return SessionFacts(
        key=SessionKey(_str(key, "agent", "key."), _str(key, "session_id", "key.")),
        title=_opt_str(d, "title"),
        first_prompt=_opt_str(d, "first_prompt"),
        cwd=_opt_str(d, "cwd"),
        git_branch=_opt_str(d, "git_branch"),
        model=_opt_str(d, "model"),
        agent_version=_opt_str(d, "agent_version"),
        started_at=_opt_dt(d, "started_at"),
        last_activity_at=_opt_dt(d, "last_activity_at"),
        usage=_usage_in(d.get("usage"), "usage"),
        by_model=tuple(
            _model_usage_in(item, f"by_model[{i}]") for i, item in enumerate(_list(d, "by_model"))
        ),
        context=_context_in(d.get("context"), "context"),
        errors=_errors_in(d.get("errors"), "errors"),
        prompts=_int(d, "prompts", "", 0),
        replies=_int(d, "replies", "", 0),
        paths=tuple(_as_str(p, f"paths[{i}]") for i, p in enumerate(_list(d, "paths"))),
        turn_hint=_opt_str(d, "turn_hint"),
        pending_tool=_opt_str(d, "pending_tool"),
        files_touched=tuple(
            _as_str(p, f"files_touched[{i}]") for i, p in enumerate(_list(d, "files_touched"))
        ),
        keywords=tuple(_as_str(w, f"keywords[{i}]") for i, w in enumerate(_list(d, "keywords"))),
        lineage=_opt_str(d, "lineage"),
    )


# --- encoding helpers ------------------------------------------------------------------------


def _usage_out(u: Usage) -> dict[str, Any]:
    return {
        "input": u.input,
        "output": u.output,
        "cache_creation": u.cache_creation,
        "cache_read": u.cache_read,
        "reasoning": u.reasoning,
        "source": u.source,
    }


def _dt_out(value: datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime {value.isoformat()} (want a time zone)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- decoding helpers ------------------------------------------------------------------------


def _usage_in(value: Any, where: str) -> Usage:
    if value is None:
        return Usage()
    d = _obj(value, where)
    prefix = f"{where}."
    source = d.get("source", "exact")
    if source not in _USAGE_SOURCES:
        raise ValueError(f"{prefix}source: expected one of {_USAGE_SOURCES}, got {source!r}")
    return Usage(
        input=_int(d, "input", prefix, 0),
        output=_int(d, "output", prefix, 0),
        cache_creation=_int(d, "cache_creation", prefix, 0),
        cache_read=_int(d, "cache_read", prefix, 0),
        reasoning=_int(d, "reasoning", prefix, 0),
        source=cast(UsageSource, source),
    )


def _model_usage_in(value: Any, where: str) -> ModelUsage:
    d = _obj(value, where)
    return ModelUsage(
        model=_str(d, "model", f"{where}."), usage=_usage_in(d.get("usage"), f"{where}.usage")
    )


def _context_in(value: Any, where: str) -> Context:
    if value is None:
        return Context()
    d = _obj(value, where)
    p = f"{where}."
    return Context(
        tokens=_opt_int(d, "tokens", p),
        window=_opt_int(d, "window", p),
        window_source=_str(d, "window_source", p, Context.window_source),
        compactions=_int(d, "compactions", p, 0),
        last_pre_tokens=_opt_int(d, "last_pre_tokens", p),
        last_post_tokens=_opt_int(d, "last_post_tokens", p),
    )


def _errors_in(value: Any, where: str) -> Errors:
    if value is None:
        return Errors()
    d = _obj(value, where)
    p = f"{where}."
    recent = _list(d, "recent", p)
    return Errors(
        tool=_int(d, "tool", p, 0),
        api=_int(d, "api", p, 0),
        recent=tuple(_as_dt(t, f"{p}recent[{i}]") for i, t in enumerate(recent)),
        last_message=_opt_str(d, "last_message", p),
    )


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _list(d: Mapping[str, Any], name: str, prefix: str = "") -> list[Any]:
    value = d.get(name)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"{prefix}{name}: expected a list, got {_kind(value)}")
    return list(value)


def _int(d: Mapping[str, Any], name: str, prefix: str, default: int) -> int:
    value = d.get(name)
    if value is None:
        return default
    return _as_int(value, f"{prefix}{name}")


def _opt_int(d: Mapping[str, Any], name: str, prefix: str) -> int | None:
    value = d.get(name)
    return None if value is None else _as_int(value, f"{prefix}{name}")


def _as_int(value: Any, where: str) -> int:
    # bool is an int subclass; a true/false where a count belongs is a wrong document.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected int, got {_kind(value)}")
    return value


def _str(d: Mapping[str, Any], name: str, prefix: str = "", default: str | None = None) -> str:
    value = d.get(name)
    if value is None:
        if default is None:
            raise ValueError(f"{prefix}{name}: missing")
        return default
    return _as_str(value, f"{prefix}{name}")


def _opt_str(d: Mapping[str, Any], name: str, prefix: str = "") -> str | None:
    value = d.get(name)
    return None if value is None else _as_str(value, f"{prefix}{name}")


def _as_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected str, got {_kind(value)}")
    return value


def _opt_dt(d: Mapping[str, Any], name: str) -> datetime | None:
    value = d.get(name)
    return None if value is None else _as_dt(value, name)


def _as_dt(value: Any, where: str) -> datetime:
    text = _as_str(value, where)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: not an ISO 8601 datetime: {text!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{where}: datetime without a time zone: {text!r}")
    return parsed.astimezone(UTC)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# --- the store's fast path ---------------------------------------------------------------------


def facts_from_stored(data: Mapping[str, Any]) -> SessionFacts:
    """Decode what this app itself wrote, without checking each field.

    A warm `list` decodes every stored session, and field-by-field checks were most of its time.
    Anything unexpected (an older or damaged row) goes through the checked `facts_from_dict`,
    which says what is wrong; both give equal objects for a well-formed row (tested).
    """
    try:
        if data["v"] != FORMAT_VERSION:
            return facts_from_dict(data)
        return _fast_facts(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return facts_from_dict(data)


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _fast_dt(value: str | None) -> datetime | None:
    return None if value is None else _utc(value)


def _fast_usage(u: Mapping[str, Any]) -> Usage:
    if u["source"] not in _USAGE_SOURCES:
        raise ValueError(u["source"])
    return Usage(
        int(u["input"]), int(u["output"]), int(u["cache_creation"]), int(u["cache_read"]),
        int(u["reasoning"]), u["source"],
    )  # fmt: skip


def _fast_facts(d: Mapping[str, Any]) -> SessionFacts:
    key, c, e = d["key"], d["context"], d["errors"]
    return SessionFacts(
        key=SessionKey(str(key["agent"]), str(key["session_id"])),
        title=d["title"],
        first_prompt=d["first_prompt"],
        cwd=d["cwd"],
        git_branch=d["git_branch"],
        model=d["model"],
        agent_version=d.get("agent_version"),  # absent from rows stored before it
        started_at=_fast_dt(d["started_at"]),
        last_activity_at=_fast_dt(d["last_activity_at"]),
        usage=_fast_usage(d["usage"]),
        by_model=tuple(ModelUsage(m["model"], _fast_usage(m["usage"])) for m in d["by_model"]),
        context=Context(
            c["tokens"], c["window"], c["window_source"], c["compactions"],
            c["last_pre_tokens"], c["last_post_tokens"],
        ),
        errors=Errors(
            e["tool"], e["api"], tuple(_utc(t) for t in e["recent"]), e["last_message"]
        ),
        prompts=d["prompts"],
        replies=d["replies"],
        paths=tuple(d["paths"]),
        turn_hint=d["turn_hint"],
        pending_tool=d.get("pending_tool"),
        files_touched=tuple(d.get("files_touched", ())),
        keywords=tuple(d.get("keywords", ())),
        lineage=d.get("lineage"),  # absent from rows stored before it
    )
