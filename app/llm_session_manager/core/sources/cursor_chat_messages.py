"""What each message of a cursor-agent chat store says, and what a conversation of them adds up to
(formats.md §3.3). Pure functions; no I/O.

Messages are Vercel AI SDK style: `{role, content}` with `content` a string or a list of parts
(`text`, `reasoning`, `tool-call {toolName, args}`, `tool-result {toolName, result, isError}`);
the model is `providerOptions.cursor.modelName` on an assistant's parts. No message records a
time or a token count, so tokens are the text counted offline (`counted`), by the same rule as
the agent transcripts: the user's messages and tool results are input, the replies, their
reasoning and their calls' arguments are output. The system prompt is Cursor's, not the
conversation's, and is not counted.

A user message carries attached context (`<user_info>`, `<rules>`, …) beside what was typed,
which sits in `<user_query>`; a message of context only is no prompt.

A message's summary (`Said`) is small and depends on the message alone; the store's blobs are
content-addressed, so a summary is computed once per blob and a conversation that grew by a turn
costs only its new messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from llm_session_manager.core.similarity import count_words, note_file
from llm_session_manager.core.sources.cursor_transcript_text import prompt_text
from llm_session_manager.core.sources.json_values import (
    FIRST_PROMPT_CHARS,
    as_dict,
    as_list,
    as_str,
)
from llm_session_manager.core.sources.text import clip
from llm_session_manager.core.sources.tool_summary import result_text, summarize_args

ERROR_CHARS = 300
_CONTEXT_BLOCK = re.compile(r"<([A-Za-z_][\w-]*)\b[^>]*>.*?</\1>", re.DOTALL)
_TURN_TOOL_RUNNING, _TURN_DONE, _TURN_WORKING = "tool_running", "turn_done", "working"


@dataclass(frozen=True)
class Said:
    role: str
    input: int = 0
    output: int = 0
    prompt: str | None = None  # what the user typed, for titles and keywords
    tools: tuple[str, ...] = ()  # tools an assistant message calls, in order
    files: tuple[str, ...] = ()
    errors: int = 0
    error_text: str | None = None
    model: str | None = None


def said(message: dict[str, Any], count: Callable[[str], int]) -> Said:
    role = as_str(message.get("role")) or ""
    content = message.get("content")
    if role == "user":
        text = _text_of(content)
        prompt = typed(text)
        return Said(role, input=count(text), prompt=clip(prompt, FIRST_PROMPT_CHARS) if prompt
                    else None)  # fmt: skip
    if role == "assistant":
        return _assistant(content, count)
    if role == "tool":
        return _tool(content, count)
    return Said(role)


def typed(text: str) -> str | None:
    """What the user typed in a message; None for a message of attached context only.

    The CLI wraps the typed words in `<user_query>` when it attaches context; a message without
    one is either all typed (kept whole, tags the user wrote included) or all context."""
    if "<user_query>" in text:
        return prompt_text(text) or None
    whole = prompt_text(text)
    return whole if _CONTEXT_BLOCK.sub("", whole).strip() else None


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    texts = [as_str(as_dict(part).get("text")) for part in as_list(content)
             if as_dict(part).get("type") in ("text", None)]  # fmt: skip
    return "\n".join(t for t in texts if t)


def _assistant(content: object, count: Callable[[str], int]) -> Said:
    if isinstance(content, str):
        return Said("assistant", output=count(content))
    output = 0
    tools: list[str] = []
    files: list[str] = []
    model: str | None = None
    for raw in as_list(content):
        part = as_dict(raw)
        kind = part.get("type")
        model = as_str(as_dict(as_dict(part.get("providerOptions")).get("cursor")).get(
            "modelName")) or model
        if kind in ("text", "reasoning"):
            output += count(as_str(part.get("text")) or "")
        elif kind == "tool-call":
            tools.append(as_str(part.get("toolName")) or "")
            args = part.get("args")
            output += count(result_text(args))
            for path in summarize_args(args)[1]:
                note_file(files, path)
    return Said("assistant", output=output, tools=tuple(tools), files=tuple(files), model=model)


def _tool(content: object, count: Callable[[str], int]) -> Said:
    if isinstance(content, str):
        return Said("tool", input=count(content))
    tokens = errors = 0
    error_text: str | None = None
    for raw in as_list(content):
        part = as_dict(raw)
        if part.get("type") != "tool-result":
            continue
        text = result_of(part.get("result"))
        tokens += count(text)
        if part.get("isError") is True:
            errors += 1
            name = as_str(part.get("toolName"))
            error_text = clip(f"{name}: {text}" if name else text, ERROR_CHARS)
    return Said("tool", input=tokens, errors=errors, error_text=error_text)


def result_of(value: object) -> str:
    """A result as text: a string, or the text parts of a list of parts, else compact JSON."""
    if isinstance(value, list) and all(isinstance(p, dict) and "text" in p for p in value):
        return "\n".join(str(p.get("text") or "") for p in value)
    return result_text(value)


@dataclass
class Tally:
    """What a conversation's messages add up to, in order."""

    input: int = 0
    output: int = 0
    prompts: int = 0
    replies: int = 0
    first_prompt: str | None = None
    tool_errors: int = 0
    last_error: str | None = None
    model: str | None = None
    turn_hint: str | None = None
    pending_tool: str | None = None
    files: list[str] = field(default_factory=list)
    words: dict[str, int] = field(default_factory=dict)


def tally(messages: Iterable[Said]) -> Tally:
    out = Tally()
    for item in messages:
        out.input += item.input
        out.output += item.output
        if item.role == "user" and item.prompt:
            out.prompts += 1
            out.first_prompt = out.first_prompt or item.prompt
            count_words(out.words, item.prompt)
            out.turn_hint, out.pending_tool = _TURN_WORKING, None
        elif item.role == "assistant":
            out.replies += 1
            out.model = item.model or out.model
            for path in item.files:
                note_file(out.files, path)
            if item.tools:
                out.turn_hint, out.pending_tool = _TURN_TOOL_RUNNING, item.tools[-1]
            else:
                out.turn_hint, out.pending_tool = _TURN_DONE, None
        elif item.role == "tool":
            out.tool_errors += item.errors
            out.last_error = item.error_text or out.last_error
            out.turn_hint, out.pending_tool = _TURN_WORKING, None
    return out
