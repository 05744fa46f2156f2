"""A Copilot Chat session document (`version: 3`, formats.md §4.1) -> SessionFacts. No I/O.

One request is one turn: the user's `message.text` and the reply's `response` parts. Newer
Copilot Chat records the turn's tokens (`result.metadata.promptTokens` / `outputTokens`, some
builds `result.usage`); older files record none, and then the prompt and the reply's markdown are
counted with the offline tokenizer ("counted"), as splitrail does. A turn's `promptTokens` is the
whole prompt it sent, so the latest one is what fills the window now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llm_session_manager.core.models import (
    Context,
    Errors,
    ModelUsage,
    SessionFacts,
    SessionKey,
    Usage,
)
from llm_session_manager.core.sources.editor_dirs import uri_to_path
from llm_session_manager.core.sources.json_values import (
    FIRST_PROMPT_CHARS,
    as_dict,
    as_int,
    as_list,
    as_str,
    earliest,
    latest,
    to_time,
)
from llm_session_manager.core.sources.text import short_title

AGENT = "copilot-vscode"
RECENT_ERRORS = 10


@dataclass(frozen=True)
class Turn:
    prompt: str
    reply: str
    usage: Usage
    recorded_prompt: int | None  # the prompt size the turn recorded, None when it did not
    model: str | None
    at: datetime | None
    answered: bool  # has a response or a result (a turn in progress has neither yet)
    finished: bool  # has a result: the turn is over (or was cancelled)
    error: str | None
    cwd: str | None
    version: str | None  # of the Copilot Chat extension that answered (`agent.extensionVersion`)


def _reply_text(response: list[Any]) -> str:
    """The reply's markdown: the parts with a text `value` (tool calls and references have a
    `kind`; a markdown part has none, or `markdownContent`)."""
    parts: list[str] = []
    for item in response:
        part = as_dict(item)
        kind = part.get("kind")
        if kind not in (None, "markdownContent"):
            continue
        value = part.get("value")
        if isinstance(value, dict):  # markdownContent wraps an IMarkdownString
            value = value.get("value")
        if isinstance(value, str):
            parts.append(value)
    return "".join(parts)


def _recorded(result: Mapping[str, Any]) -> tuple[int, int] | None:
    meta = as_dict(result.get("metadata"))
    usage = as_dict(result.get("usage"))
    prompt = (as_int(meta.get("promptTokens")) or as_int(usage.get("promptTokens"))
              or as_int(usage.get("prompt_tokens")))
    output = (as_int(meta.get("outputTokens")) or as_int(usage.get("completionTokens"))
              or as_int(usage.get("outputTokens")) or as_int(usage.get("completion_tokens")))
    return (prompt, output) if prompt or output else None


def _error(result: Mapping[str, Any], canceled: bool) -> str | None:
    # The extension also writes errorDetails {message: "Canceled"} when the user stops a
    # request: stopping is not a failure, so it is no error.
    if canceled:
        return None
    details = result.get("errorDetails")
    if isinstance(details, str) and details:
        return None if details == "Canceled" else details
    if isinstance(details, dict):
        message = as_str(details.get("message"))
        return None if message == "Canceled" else message or "error"
    return None


def read_turn(request: Mapping[str, Any], count: Callable[[str], int]) -> Turn:
    message = as_dict(request.get("message"))
    prompt = as_str(message.get("text")) or ""
    response = as_list(request.get("response"))
    reply = _reply_text(response)
    result = as_dict(request.get("result"))
    meta = as_dict(result.get("metadata"))
    recorded = _recorded(result)
    if recorded is not None:
        usage = Usage(input=recorded[0], output=recorded[1])
    else:
        usage = Usage(input=count(prompt), output=count(reply), source="counted")
    return Turn(
        prompt=prompt,
        reply=reply,
        usage=usage,
        recorded_prompt=recorded[0] if recorded and recorded[0] else None,
        model=as_str(meta.get("resolvedModel")) or as_str(request.get("modelId")),
        at=to_time(request.get("timestamp")),
        answered=bool(response) or bool(result),
        finished=bool(result) or request.get("isCanceled") is True,
        error=_error(result, request.get("isCanceled") is True),
        cwd=uri_to_path(as_str(meta.get("cacheKey")) or ""),
        version=as_str(as_dict(request.get("agent")).get("extensionVersion")),
    )


def session_facts(
    doc: Mapping[str, Any],
    fallback_id: str,
    cwd: str | None,
    path: str,
    count: Callable[[str], int],
) -> SessionFacts:
    session_id = as_str(doc.get("sessionId")) or fallback_id
    turns = [read_turn(as_dict(r), count) for r in as_list(doc.get("requests"))]
    usage = Usage()
    by_model: dict[str, Usage] = {}
    for turn in turns:
        usage = usage + turn.usage
        if turn.model:
            by_model[turn.model] = by_model.get(turn.model, Usage()) + turn.usage
    first_prompt = next((t.prompt for t in turns if t.prompt.strip()), None)
    title = as_str(doc.get("customTitle")) or (short_title(first_prompt) if first_prompt else None)
    times = [t.at for t in turns]
    created = to_time(doc.get("creationDate"))
    last = turns[-1] if turns else None
    return SessionFacts(
        key=SessionKey(AGENT, session_id),
        title=title,
        first_prompt=first_prompt[:FIRST_PROMPT_CHARS] if first_prompt else None,
        # The workspace's folder; a chat opened without a folder only has the prompt cache key.
        cwd=cwd or next((t.cwd for t in reversed(turns) if t.cwd), None),
        model=next((t.model for t in reversed(turns) if t.model), None),
        agent_version=next((t.version for t in reversed(turns) if t.version), None),
        started_at=created or earliest(*times),
        last_activity_at=latest(to_time(doc.get("lastMessageDate")), created, *times),
        usage=usage,
        by_model=tuple(ModelUsage(m, u) for m, u in by_model.items()),
        context=_context(turns),
        errors=_errors(turns),
        prompts=len(turns),
        replies=sum(1 for t in turns if t.answered),
        paths=(path,),
        turn_hint=None if last is None else ("turn_done" if last.finished else "working"),
    )


def _context(turns: list[Turn]) -> Context:
    """The latest finished turn's recorded prompt; unknown (None) when that turn recorded none."""
    finished = [t for t in turns if t.finished]
    if finished and finished[-1].recorded_prompt is not None:
        return Context(tokens=finished[-1].recorded_prompt)
    return Context()


def _errors(turns: list[Turn]) -> Errors:
    failed = [t for t in turns if t.error]
    recent = tuple(t.at for t in failed if t.at)[-RECENT_ERRORS:]
    return Errors(api=len(failed), recent=recent,
                  last_message=failed[-1].error if failed else None)
