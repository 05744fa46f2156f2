"""opencode's records -> SessionFacts, the same for its SQLite database and its older JSON files.

Both layouts hold the same objects: a session (id, title, directory, parent, times) and its
messages, whose `data` is the message JSON. Every assistant message carries exact figures for the
one request it made, verified against a loopback mock with opencode 1.18.33:
`tokens.input` is uncached input (the prompt minus `cache.read`), `cache.read` / `cache.write` are
apart, and `tokens.output` does **not** include `tokens.reasoning` (the server billed 20 output
tokens of which 6 reasoning; opencode wrote output 14, reasoning 6). `Usage.output` includes
reasoning (models.py), so output = output + reasoning here.

The title-generation request is billed but recorded in no message, as with Claude Code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from llm_session_manager.core.models import (
    Context,
    Errors,
    ModelUsage,
    SessionFacts,
    SessionKey,
    Usage,
)
from llm_session_manager.core.sources.text import short_title

AGENT = "opencode"
MAX_RECENT_ERRORS = 20
# A user pressing Esc is not an error of the session (opencode records the abort on the message).
_NOT_ERRORS = frozenset({"MessageAbortedError"})


@dataclass(frozen=True)
class SessionRow:
    """What the `session` table (or `storage/session/<project>/<id>.json`) says of a session."""

    id: str
    directory: str | None
    title: str | None
    created_ms: int | None
    updated_ms: int | None
    parent_id: str | None = None
    # opencode's own total in USD, kept beside our price-table estimate (see `recorded_cost`).
    recorded_cost: float | None = None
    # The opencode version that created the session (the row's `version`, e.g. "1.18.33").
    version: str | None = None


@dataclass
class MessageTally:
    """The figures of one session's messages, folded one message at a time (bounded memory)."""

    by_model: dict[str, Usage] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    recorded_cost: float = 0.0
    context_tokens: int | None = None
    model: str | None = None
    prompts: int = 0
    replies: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    compactions: int = 0
    recent_errors: list[datetime] = field(default_factory=list)
    last_error: str | None = None
    first_ms: int | None = None
    last_ms: int | None = None
    open_turn: bool = False  # the newest assistant message has not completed yet

    def add_message(self, data: Mapping[str, Any], own: bool = True) -> None:
        """One message's JSON. `own` is False for a child (subagent) session's messages: they
        add tokens, cost and errors, but not the parent's context, model or turn state."""
        role = data.get("role")
        time = _obj(data.get("time"))
        created = _int(time.get("created"))
        if own and created is not None:
            self.first_ms = created if self.first_ms is None else min(self.first_ms, created)
            done = _int(time.get("completed"))
            latest = max(created, done or 0)
            self.last_ms = latest if self.last_ms is None else max(self.last_ms, latest)
        if role == "user":
            if own:
                self.prompts += 1
            return
        if role != "assistant":
            return
        if own:
            self.replies += 1
            self.open_turn = _int(time.get("completed")) is None and not data.get("error")
            if data.get("summary") is True or data.get("mode") == "compaction":
                self.compactions += 1
        self._add_usage(data, own)
        error = data.get("error")
        if isinstance(error, Mapping) and error.get("name") not in _NOT_ERRORS:
            self.api_errors += 1
            self._note_error(created, _error_text(error))

    def _add_usage(self, data: Mapping[str, Any], own: bool) -> None:
        tokens = data.get("tokens")
        if not isinstance(tokens, Mapping):
            return
        cache = _obj(tokens.get("cache"))
        reasoning = _int(tokens.get("reasoning")) or 0
        usage = Usage(
            input=_int(tokens.get("input")) or 0,
            output=(_int(tokens.get("output")) or 0) + reasoning,
            cache_creation=_int(cache.get("write")) or 0,
            cache_read=_int(cache.get("read")) or 0,
            reasoning=reasoning,
        )
        cost = data.get("cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            self.recorded_cost += float(cost)
        model = data.get("modelID") if isinstance(data.get("modelID"), str) else None
        if usage.total == 0:
            return  # a failed or aborted request: no tokens, and not the context now
        name = model or "unknown"
        self.by_model[name] = self.by_model.get(name, Usage()) + usage
        self.usage = self.usage + usage
        if own:
            # The prompt of the newest request is what the window holds now.
            self.context_tokens = usage.input + usage.cache_read + usage.cache_creation
            self.model = model or self.model

    def add_tool_error(self, at_ms: int | None, message: str | None) -> None:
        self.tool_errors += 1
        self._note_error(at_ms, message)

    def _note_error(self, at_ms: int | None, message: str | None) -> None:
        when = _time(at_ms)
        if when is not None:
            self.recent_errors.append(when)
            self.recent_errors.sort()
            del self.recent_errors[:-MAX_RECENT_ERRORS]
        if message:
            self.last_error = message


def build_facts(
    row: SessionRow,
    tally: MessageTally,
    first_prompt: str | None,
    paths: Iterable[str],
) -> SessionFacts:
    title = row.title if row.title and not _is_placeholder(row.title) else None
    if title is None and first_prompt:
        title = short_title(first_prompt)
    context = Context(tokens=tally.context_tokens, compactions=tally.compactions)
    errors = Errors(
        tool=tally.tool_errors,
        api=tally.api_errors,
        recent=tuple(tally.recent_errors),
        last_message=tally.last_error,
    )
    started = _time(row.created_ms) or _time(tally.first_ms)
    last = max((t for t in (_time(row.updated_ms), _time(tally.last_ms)) if t), default=None)
    return SessionFacts(
        key=SessionKey(AGENT, row.id),
        title=title,
        first_prompt=first_prompt,
        cwd=row.directory or None,
        model=tally.model,
        agent_version=row.version,
        started_at=started,
        last_activity_at=last,
        usage=tally.usage,
        by_model=tuple(ModelUsage(m, u) for m, u in tally.by_model.items()),
        context=context,
        errors=errors,
        prompts=tally.prompts,
        replies=tally.replies,
        paths=tuple(paths),
        turn_hint="working" if tally.open_turn else "turn_done",
    )


def clean_prompt(text: str) -> str:
    """`opencode run "x"` stores the prompt as `"x"` (quotes included): show it without them."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        return stripped[1:-1]
    return stripped


def tool_error(part: Mapping[str, Any]) -> tuple[int | None, str | None] | None:
    """(time, message) when a part is a tool call that failed; None otherwise."""
    if part.get("type") != "tool":
        return None
    state = part.get("state")
    if not isinstance(state, Mapping) or state.get("status") != "error":
        return None
    time = _obj(state.get("time"))
    message = state.get("error")
    return _int(time.get("end") or time.get("start")), (
        str(message)[:300] if message else None
    )


def _error_text(error: Mapping[str, Any]) -> str:
    data = error.get("data")
    message = data.get("message") if isinstance(data, Mapping) else None
    name = str(error.get("name") or "error")
    return f"{name}: {message}"[:300] if message else name


def _is_placeholder(title: str) -> bool:
    # Until the title request answers, opencode names a session "New session - <ISO time>".
    return title.startswith(("New session - ", "Child session - "))


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _time(ms: int | None) -> datetime | None:
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
