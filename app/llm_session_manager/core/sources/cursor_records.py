"""Cursor's conversation records -> SessionFacts. Pure functions of parsed JSON; no I/O.

Three shapes of one thing, a list of messages ("bubbles"):
- modern composers: `composerData:<id>` (global `cursorDiskKV`) listing its bubbles in
  `fullConversationHeadersOnly`, each one a `bubbleId:<composer>:<bubble>` row;
- older composers: the same document with the bubbles inline in `conversation`
  (workspace `composer.composerData`, or early global documents);
- chat tabs (2023-2024): `workbench.panel.aichat.view.aichat.chatdata` tabs with bubbles typed
  "user" / "ai".

Tokens: a bubble's `tokenCount` is often 0/0 (formats.md §3.1), so they are judged per turn (a
user bubble and the replies after it): a turn with any recorded count uses the recorded counts
("exact"), a turn without counts has its text counted ("counted"), and never both, since the
assistant's recorded input already contains the user's prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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

AGENT = "cursor"
RECENT_ERRORS = 10
# "default" is how Cursor records its Auto model choice: no model a table could price.
_AUTO_MODELS = frozenset({"default", "auto"})


@dataclass(frozen=True)
class Bubble:
    """One message, reduced to what the facts need."""

    user: bool
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    model: str | None = None
    at: datetime | None = None
    tool_error: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ConversationInfo:
    """What the conversation's own document says beside its bubbles."""

    session_id: str
    title: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    model: str | None = None
    status: str | None = None
    generating: bool = False
    context_used: int | None = None
    context_limit: int | None = None
    cwd: str | None = None
    paths: tuple[str, ...] = field(default=())


def _model(value: Any) -> str | None:
    name = as_str(value)
    return None if name is None or name.lower() in _AUTO_MODELS else name


def error_text(value: Any) -> str | None:
    """What a bubble's error field says: a string, or a details object's message."""
    if isinstance(value, str) and value:
        return value
    details = as_dict(value)
    for key in ("message", "title", "error"):
        text = as_str(details.get(key))
        if text:
            return text
    return "error" if details else None


def bubble_from_doc(doc: Mapping[str, Any]) -> Bubble | None:
    """A composer bubble (type 1 = user, 2 = assistant), inline or from `bubbleId:` rows."""
    kind = doc.get("type")
    if kind not in (1, 2):
        return None
    tokens = as_dict(doc.get("tokenCount"))
    timing = as_dict(doc.get("timingInfo"))
    text = as_str(doc.get("text")) or ""
    thinking = as_str(as_dict(doc.get("thinking")).get("text"))
    if kind == 2 and thinking:
        text = f"{text}\n{thinking}" if text else thinking  # reasoning is billed as output
    tool = as_dict(doc.get("toolFormerData"))
    return Bubble(
        user=kind == 1,
        text=text,
        input_tokens=as_int(tokens.get("inputTokens")),
        output_tokens=as_int(tokens.get("outputTokens")),
        model=_model(as_dict(doc.get("modelInfo")).get("modelName")),
        at=to_time(doc.get("createdAt"))
        or to_time(timing.get("clientEndTime"))
        or to_time(timing.get("clientRpcSendTime")),
        tool_error=tool.get("status") == "error",
        error=error_text(doc.get("errorDetails")),
    )


def bubble_from_chat_tab(doc: Mapping[str, Any]) -> Bubble | None:
    """A chat-tab bubble: type "user" or "ai"; the reply's model is in `modelType`."""
    kind = doc.get("type")
    if kind not in ("user", "ai"):
        return None
    text = as_str(doc.get("text")) or as_str(doc.get("rawText")) or ""
    return Bubble(
        user=kind == "user",
        text=text,
        model=_model(doc.get("modelType")),
        at=to_time(doc.get("createdAt")),
        error=error_text(doc.get("errorDetails")) or error_text(doc.get("aiStreamingError")),
    )


def composer_info(doc: Mapping[str, Any], session_id: str) -> ConversationInfo:
    model_config = as_dict(doc.get("modelConfig"))
    used = doc.get("contextTokensUsed")
    limit = doc.get("contextTokenLimit")
    return ConversationInfo(
        session_id=session_id,
        title=as_str(doc.get("name")),
        created=to_time(doc.get("createdAt")),
        updated=to_time(doc.get("lastUpdatedAt")),
        model=_model(model_config.get("modelName")),
        status=as_str(doc.get("status")),
        generating=(doc.get("status") == "generating"
                    or bool(as_list(doc.get("generatingBubbleIds")))),
        context_used=as_int(used) if isinstance(used, int | float) else None,
        context_limit=as_int(limit) if isinstance(limit, int | float) and limit else None,
    )


def header_bubble_ids(doc: Mapping[str, Any]) -> list[str] | None:
    """The bubble ids of the live conversation in order, or None when the document lists none.

    Bubbles of an edited or rewound turn stay in the database but leave this list, so only the
    listed ones count.
    """
    headers = doc.get("fullConversationHeadersOnly")
    if not isinstance(headers, list):
        return None
    ids = [as_str(as_dict(h).get("bubbleId")) for h in headers]
    return [i for i in ids if i]


def inline_bubbles(doc: Mapping[str, Any]) -> list[Bubble]:
    found = (bubble_from_doc(as_dict(b)) for b in as_list(doc.get("conversation")))
    return [b for b in found if b is not None]


@dataclass
class _Turn:
    prompt: list[Bubble] = field(default_factory=list)
    replies: list[Bubble] = field(default_factory=list)

    def bubbles(self) -> list[Bubble]:
        return self.prompt + self.replies


def _turns(bubbles: Iterable[Bubble]) -> list[_Turn]:
    turns: list[_Turn] = []
    for bubble in bubbles:
        if bubble.user and (not turns or turns[-1].replies):
            turns.append(_Turn())
        elif not turns:
            turns.append(_Turn())  # a reply with no prompt before it (a trimmed history)
        (turns[-1].prompt if bubble.user else turns[-1].replies).append(bubble)
    return turns


def _turn_usage(turn: _Turn, count: Callable[[str], int]) -> Usage:
    bubbles = turn.bubbles()
    recorded_in = sum(b.input_tokens for b in bubbles)
    recorded_out = sum(b.output_tokens for b in bubbles)
    if recorded_in or recorded_out:
        return Usage(input=recorded_in, output=recorded_out)
    return Usage(
        input=sum(count(b.text) for b in turn.prompt),
        output=sum(count(b.text) for b in turn.replies),
        source="counted",
    )


def build_facts(
    info: ConversationInfo, bubbles: list[Bubble], count: Callable[[str], int]
) -> SessionFacts | None:
    """The facts of one conversation; None when it has no message (an empty new composer)."""
    if not bubbles:
        return None
    turns = _turns(bubbles)
    usage = Usage()
    by_model: dict[str, Usage] = {}
    model = info.model
    for turn in turns:
        turn_usage = _turn_usage(turn, count)
        usage = usage + turn_usage
        turn_model = next((b.model for b in turn.bubbles() if b.model), None) or info.model
        if turn_model:
            model = turn_model
            by_model[turn_model] = by_model.get(turn_model, Usage()) + turn_usage
    prompts = [b for b in bubbles if b.user]
    first_prompt = next((b.text for b in prompts if b.text.strip()), None)
    times = [b.at for b in bubbles]
    return SessionFacts(
        key=SessionKey(AGENT, info.session_id),
        title=info.title or (short_title(first_prompt) if first_prompt else None),
        first_prompt=first_prompt[:FIRST_PROMPT_CHARS] if first_prompt else None,
        cwd=info.cwd,
        model=model,
        started_at=info.created or earliest(*times),
        last_activity_at=latest(info.updated, info.created, *times),
        usage=usage,
        by_model=tuple(ModelUsage(m, u) for m, u in by_model.items()),
        context=_context(info, turns[-1]),
        errors=_errors(info, bubbles),
        prompts=len(prompts),
        replies=len(bubbles) - len(prompts),
        paths=info.paths,
        turn_hint="working" if info.generating else "turn_done",
    )


def _context(info: ConversationInfo, last: _Turn) -> Context:
    """The window's fill now, only where the record says it; else tokens None (unknown)."""
    if info.context_used is not None:
        window = info.context_limit
        return Context(tokens=info.context_used, window=window,
                       window_source="record" if window else "unknown")
    # The latest request's recorded prompt size is what is in the window now; a turn without
    # recorded counts says nothing about the window (its counted text is not the prompt).
    prompt = max((b.input_tokens for b in last.replies), default=0)
    return Context(tokens=prompt) if prompt else Context()


def _errors(info: ConversationInfo, bubbles: list[Bubble]) -> Errors:
    tool = sum(1 for b in bubbles if b.tool_error)
    failed = [b for b in bubbles if b.error]
    api = len(failed)
    last_message = failed[-1].error if failed else None
    if info.status == "error" and not failed:
        api, last_message = 1, "conversation ended in an error"
    recent = tuple(b.at for b in bubbles if (b.error or b.tool_error) and b.at)[-RECENT_ERRORS:]
    if info.status == "error" and not failed and info.updated:
        recent = (*recent, info.updated)[-RECENT_ERRORS:]
    return Errors(tool=tool, api=api, recent=recent, last_message=last_message)


def chat_tab_facts(
    tab: Mapping[str, Any], cwd: str | None, path: str, count: Callable[[str], int]
) -> SessionFacts | None:
    session_id = as_str(tab.get("tabId"))
    if session_id is None:
        return None
    found = (bubble_from_chat_tab(as_dict(b)) for b in as_list(tab.get("bubbles")))
    # Every tab ends with an empty user bubble: the input box, not a message that was sent.
    bubbles = [b for b in found if b is not None and (b.text.strip() or not b.user)]
    info = ConversationInfo(
        session_id=session_id,
        title=as_str(tab.get("chatTitle")),
        updated=to_time(tab.get("lastSendTime")),
        cwd=cwd,
        paths=(path,),
    )
    return build_facts(info, bubbles, count)


def header_folders(doc: dict[str, Any]) -> dict[str, str]:
    """composerId -> folder from the global heads list some builds keep (formats.md §3.1)."""
    folders: dict[str, str] = {}
    for item in as_list(doc.get("allComposers")):
        head = as_dict(item)
        cid = as_str(head.get("composerId"))
        uri = as_dict(as_dict(head.get("workspaceIdentifier")).get("uri"))
        folder = as_str(uri.get("fsPath")) or uri_to_path(as_str(uri.get("external")) or "")
        if cid and folder:
            folders[cid] = folder
    return folders
