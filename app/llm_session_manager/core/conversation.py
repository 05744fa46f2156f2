"""A session's conversation as every agent's reader returns it: bounded, frozen, agent-neutral.

Exports, the continuation brief and (later) the details pane show what was said and done. A
transcript can be hundreds of megabytes, so a `Conversation` is bounded twice: each turn's text
is shortened (tool output hardest, it is the bulk and the least worth keeping), and past
`MAX_TURNS` the middle of the conversation is left out, keeping its start (what the session set
out to do) and its end (where it stopped), with a count of what was dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TurnRole = Literal["user", "assistant", "tool_call", "tool_result", "error", "compaction", "system"]
TURN_ROLES: tuple[TurnRole, ...] = (
    "user", "assistant", "tool_call", "tool_result", "error", "compaction", "system",
)  # fmt: skip

MAX_TURNS = 5_000
HEAD_TURNS = 1_000  # of MAX_TURNS, kept from the start; the rest is the newest turns
MAX_TOOL_RESULT_CHARS = 2_000
MAX_TEXT_CHARS = 20_000  # prompts and replies: long pastes happen, whole books do not
MAX_TOOL_INPUT_CHARS = 500
MAX_PATHS_PER_TURN = 20


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, saying how much was cut (never silently)."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    marker = f" … [{cut} more characters]"
    return text[: max(0, limit - len(marker))] + marker


@dataclass(frozen=True)
class Turn:
    """One step of a conversation.

    `tool` names the tool of a call or result; `tool_input` is a one-line summary of a call's
    arguments (the command, the file, the pattern), not the arguments themselves. `paths` are
    files a tool call named. `subagent` marks turns of a subagent (Claude's sidechains).
    """

    role: TurnRole
    text: str = ""
    tool: str | None = None
    tool_input: str | None = None
    is_error: bool = False
    timestamp: datetime | None = None
    subagent: bool = False
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    turns: tuple[Turn, ...] = ()
    omitted_turns: int = 0  # left out of the middle because of MAX_TURNS
    skipped_lines: int = 0  # record lines that could not be read
    unavailable: str | None = None  # why there is no conversation at all (e.g. no reader)

    @property
    def note(self) -> str | None:
        """What a reader of the export should know about what is missing."""
        parts: list[str] = []
        if self.unavailable:
            parts.append(self.unavailable)
        if self.omitted_turns:
            parts.append(
                f"{self.omitted_turns} turns in the middle left out (at most {MAX_TURNS} kept)"
            )
        if self.skipped_lines:
            parts.append(f"{self.skipped_lines} unreadable record lines skipped")
        return "; ".join(parts) or None


def bounded_turn(turn: Turn) -> Turn:
    """The turn with its text, tool input and paths within the limits."""
    limit = MAX_TOOL_RESULT_CHARS if turn.role == "tool_result" else MAX_TEXT_CHARS
    text = shorten(turn.text, limit)
    summary = None if turn.tool_input is None else shorten(turn.tool_input, MAX_TOOL_INPUT_CHARS)
    paths = turn.paths[:MAX_PATHS_PER_TURN]
    if text is turn.text and summary is turn.tool_input and paths == turn.paths:
        return turn
    return Turn(turn.role, text, turn.tool, summary, turn.is_error, turn.timestamp,
                turn.subagent, paths)  # fmt: skip


class ConversationBuilder:
    """Collects turns in order with bounded memory: the first HEAD_TURNS and the newest rest."""

    def __init__(self, max_turns: int = MAX_TURNS, head: int = HEAD_TURNS) -> None:
        self._head_size = min(head, max_turns)
        self._head: list[Turn] = []
        self._tail: deque[Turn] = deque(maxlen=max(0, max_turns - self._head_size))
        self._seen = 0
        self.skipped_lines = 0

    def add(self, turn: Turn) -> None:
        turn = bounded_turn(turn)
        self._seen += 1
        if len(self._head) < self._head_size:
            self._head.append(turn)
        elif self._tail.maxlen:
            self._tail.append(turn)

    def extend(self, turns: Iterable[Turn]) -> None:
        for turn in turns:
            self.add(turn)

    @property
    def last(self) -> Turn | None:
        if self._tail:
            return self._tail[-1]
        return self._head[-1] if self._head else None

    def build(self, omitted_before: int = 0) -> Conversation:
        kept = (*self._head, *self._tail)
        return Conversation(
            turns=kept,
            omitted_turns=omitted_before + self._seen - len(kept),
            skipped_lines=self.skipped_lines,
        )
