"""A session as a portable document (schema_version 1), and that document as JSON, YAML or Markdown.

The document is plain JSON data, so JSON and YAML carry the same schema and `core.importer` reads
either back to an equal dict:

    schema_version: 1
    kind: llm-session-manager/session
    exported_at, exported_by
    redaction: {applied, count}
    session: {agent, session_id, state, project, tags, notes, cost_usd, health, facts}
    conversation: {turns: [{role, text, tool, tool_input, is_error, timestamp, subagent,
                   paths}], omitted_turns, skipped_lines, note}
    brief: the continuation brief (Markdown)

`facts` is `core.codec.facts_to_dict`, the same encoding the store keeps. Markdown is a readable
report plus the brief; it is made from the document alone, so an imported session renders the
same Markdown as its origin did.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from llm_session_manager import __version__
from llm_session_manager.core.brief import continuation_brief
from llm_session_manager.core.codec import facts_to_dict
from llm_session_manager.core.conversation import Conversation, Turn
from llm_session_manager.core.models import Health, Session
from llm_session_manager.core.redact import Redactor

SCHEMA_VERSION = 1
KIND = "llm-session-manager/session"
Format = Literal["json", "yaml", "markdown"]
FORMATS: tuple[Format, ...] = ("json", "yaml", "markdown")
_EXTENSIONS: dict[str, Format] = {
    ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".md": "markdown", ".markdown": "markdown",
}  # fmt: skip


def format_for(path: Path, given: str | None = None) -> Format:
    """The format asked for, else the one the file's extension names. ValueError if neither."""
    if given:
        if given not in FORMATS:
            raise ValueError(f"unknown format {given!r} (want one of {', '.join(FORMATS)})")
        return given
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format from {path.name!r}; use --format json|yaml|markdown "
            "or a .json, .yaml or .md file name"
        )
    return fmt


def timestamp(value: datetime | None) -> str | None:
    """The fixed-width UTC form the codec uses, so times compare and sort as text."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def turn_dict(turn: Turn) -> dict[str, Any]:
    return {
        "role": turn.role,
        "text": turn.text,
        "tool": turn.tool,
        "tool_input": turn.tool_input,
        "is_error": turn.is_error,
        "timestamp": timestamp(turn.timestamp),
        "subagent": turn.subagent,
        "paths": list(turn.paths),
    }


def health_dict(health: Health | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "score": round(health.score, 1),
        "level": health.level,
        "factors": [
            {"name": f.name, "raw": f.raw, "score": round(f.score, 1), "weight": f.weight,
             "reason": f.reason}
            for f in health.factors
        ],
    }  # fmt: skip


def build_document(
    session: Session,
    conversation: Conversation,
    notes: str | None,
    redact: bool = True,
    *,
    now: datetime | None = None,
) -> tuple[dict[str, Any], int]:
    """The export document of a session and how many secrets were redacted from it."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "exported_at": timestamp(now or datetime.now(UTC)),
        "exported_by": f"llm-session-manager {__version__}",
        "redaction": {"applied": redact, "count": 0},
        "session": {
            "agent": session.key.agent,
            "session_id": session.key.session_id,
            "state": session.state,
            "project": session.project,
            "tags": list(session.tags),
            "notes": notes,
            "cost_usd": None if session.cost_usd is None else round(session.cost_usd, 6),
            "health": health_dict(session.health),
            "facts": facts_to_dict(session.facts),
        },
        "conversation": {
            "turns": [turn_dict(t) for t in conversation.turns],
            "omitted_turns": conversation.omitted_turns,
            "skipped_lines": conversation.skipped_lines,
            "note": conversation.note,
        },
        "brief": continuation_brief(session, conversation),
    }
    if not redact:
        return document, 0
    return redact_document(document)


def redact_document(document: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The document with its secrets redacted; unchanged (the same object) when it has none."""
    redactor = Redactor()
    cleaned = redactor.tree(document)
    if redactor.count == 0:
        return document, 0
    before = document.get("redaction")
    earlier = before.get("count", 0) if isinstance(before, dict) else 0
    cleaned["redaction"] = {"applied": True, "count": int(earlier) + redactor.count}
    return cleaned, redactor.count


def render(document: dict[str, Any], fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        text: str = yaml.dump(
            document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        return text
    if fmt == "markdown":
        from llm_session_manager.core.export_markdown import markdown

        return markdown(document)
    raise ValueError(f"unknown format {fmt!r}")


class _Dumper(yaml.SafeDumper):
    """SafeDumper with multi-line text as literal blocks, so prompts and output stay readable."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Only plain "\n" line breaks and no trailing blanks: other breaks ("\r\n", U+2028) are
    # normalised by YAML readers in block style, which would break the exact round trip.
    if "\n" in data and not any(c in data for c in "\r\x85\u2028\u2029\t") and not any(
        line != line.rstrip(" ") for line in data.split("\n")
    ):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)
