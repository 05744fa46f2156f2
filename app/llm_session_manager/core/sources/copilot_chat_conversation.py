"""A Copilot Chat (VS Code) session's conversation, from its session document. No I/O.

One request is one exchange: the user's `message.text`, then the reply's `response` parts. The
tool invocations the reply made (`toolInvocationSerialized`: `invocationMessage` says what it set
out to do, `pastTenseMessage` what it did) become tool calls and their outcomes; the reply's
markdown parts, with its inline references written as their names, become one assistant turn, so
that a session's assistant turns are its answered requests. `result.errorDetails` is an error;
`isCanceled` says the user stopped the reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from llm_session_manager.core.conversation import Conversation, ConversationBuilder, Turn
from llm_session_manager.core.sources.copilot_chat import read_turn
from llm_session_manager.core.sources.json_values import as_dict, as_list, as_str, to_time

# Copilot writes the file a tool acted on as an empty-labelled link: `Reading [](file:///x/y.py)`.
_FILE_LINK = re.compile(r"\[\]\(file://([^)\s]+)\)")


def conversation_of(doc: Mapping[str, Any]) -> Conversation:
    builder = ConversationBuilder()
    for item in as_list(doc.get("requests")):
        builder.extend(_request_turns(as_dict(item)))
    return builder.build()


def _request_turns(request: dict[str, Any]) -> list[Turn]:
    when = to_time(request.get("timestamp"))
    out: list[Turn] = []
    prompt = (as_str(as_dict(request.get("message")).get("text")) or "").strip()
    if prompt:
        out.append(Turn("user", prompt, timestamp=when))
    texts: list[str] = []
    for item in as_list(request.get("response")):
        part = as_dict(item)
        kind = part.get("kind")
        if kind == "toolInvocationSerialized":
            out += _tool_turns(part, when)
        elif kind == "inlineReference":
            texts.append(_reference_name(as_dict(part.get("inlineReference"))))
        elif kind in (None, "markdownContent"):
            value = part.get("value")
            if isinstance(value, dict):  # markdownContent wraps an IMarkdownString
                value = value.get("value")
            if isinstance(value, str):
                texts.append(value)
    reply = "".join(texts).strip()
    if reply:
        out.append(Turn("assistant", reply, timestamp=when))
    # The facts' reading of the request's outcome, so the conversation and the facts agree.
    error = read_turn(request, len).error
    if error:
        out.append(Turn("error", error, is_error=True, timestamp=when))
    elif request.get("isCanceled") is True:
        out.append(Turn("system", "the reply was cancelled", timestamp=when))
    return out


def _tool_turns(part: dict[str, Any], when: datetime | None) -> list[Turn]:
    tool = as_str(part.get("toolId")) or "tool"
    invocation = _message(part.get("invocationMessage"))
    paths = tuple(_file_paths(part.get("invocationMessage")))
    out = [Turn("tool_call", "", tool, invocation or None, timestamp=when, paths=paths)]
    done = _message(part.get("pastTenseMessage"))
    if done:
        # A call the user declined did not run: say so rather than show its planned outcome.
        failed = part.get("isConfirmed") is False
        out.append(Turn("tool_result", "not confirmed" if failed else done, tool,
                        is_error=failed, timestamp=when))  # fmt: skip
    return out


def _message(value: object) -> str:
    """An IMarkdownString's text (or plain text), with `[](file:///x)` links shown as `x`."""
    text = as_str(as_dict(value).get("value")) if isinstance(value, dict) else as_str(value)
    return _FILE_LINK.sub(lambda m: unquote(m.group(1)), text) if text else ""


def _file_paths(value: object) -> list[str]:
    uris = as_dict(as_dict(value).get("uris"))
    paths = []
    for uri in uris:
        if isinstance(uri, str) and uri.startswith("file://"):
            paths.append(unquote(uri[len("file://"):]))
    return paths


def _reference_name(ref: dict[str, Any]) -> str:
    name = as_str(ref.get("name"))
    if name:
        return f"`{name}`"
    path = as_str(ref.get("path")) or as_str(ref.get("fsPath"))
    return f"`{path.rsplit('/', 1)[-1]}`" if path else ""
