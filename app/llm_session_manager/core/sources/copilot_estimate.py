"""Tokens of the turns of a Copilot CLI log that no exact figure covers: an estimate ("counted").

Copilot CLI versions before per-call `session.usage_record` lines wrote exact totals only at
`session.shutdown` (cumulative `modelMetrics`); per message only `assistant.message.outputTokens`
(formats.md §4.2). A session still running in such a version, or one resumed after its latest
shutdown, has turns no total covers yet. For those turns:
- output is the message's own `outputTokens` where it has one, else its text (content, reasoning
  and tool-call arguments, as the Claude source counts a reply without usage) counted offline;
- input is the prompt's text counted offline (the prompt is all the log gives of what was sent,
  as the Codex and Copilot Chat sources count it), so the figure is a floor, never exact.
A shutdown that carries totals covers every turn before it, so `reset()` then drops them.

Text is counted late (when the session is built, or past PENDING_CHARS): a log of a current
version gets its first usage record right after the first prompt and is never counted, so the
tokenizer is not loaded for it. A message id is remembered across resets, so a turn written again
after a resume is not estimated twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from llm_session_manager.core.models import Usage
from llm_session_manager.core.sources.accumulator_state import restore_fields
from llm_session_manager.core.sources.text_tokens import TextCounter

PENDING_CHARS = 256 * 1024
IDS_KEPT = 1024
_INPUT, _OUTPUT = 0, 1


def reply_text(data: dict[str, Any]) -> str:
    """What the model wrote in an `assistant.message`: text, reasoning and tool-call arguments."""
    parts = [v for k in ("content", "reasoningText") if isinstance(v := data.get(k), str)]
    requests = data.get("toolRequests")
    for request in requests if isinstance(requests, list) else []:
        if isinstance(request, dict):
            name = request.get("name") or request.get("toolName")
            args = orjson.dumps(request.get("arguments")).decode()
            parts.append(f"{name if isinstance(name, str) else ''} {args}")
    return "\n".join(p for p in parts if p)


class TailEstimate:
    """Prompts and replies since the latest shutdown total, per model, counted when asked."""

    def __init__(self, count_tokens: Callable[[str], int] | None = None) -> None:
        self._count = TextCounter(count_tokens)
        self.turns = 0  # prompts and replies taken since the last reset
        self.by_model: dict[str, list[int]] = {}  # model -> [input, output] counted so far
        self.pending: list[list[Any]] = []  # [model, slot, text] not counted yet
        self.pending_chars = 0
        self.seen_ids: list[str] = []  # message ids taken, kept across resets

    # ---- state -----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def restore(
        cls, state: dict[str, Any], count_tokens: Callable[[str], int] | None = None
    ) -> TailEstimate:
        if not isinstance(state, dict):
            raise ValueError("copilot estimate state is not a mapping")
        estimate = cls(count_tokens)
        restore_fields(estimate, state, "copilot estimate", set(estimate.dump()))
        return estimate

    # ---- feeding ---------------------------------------------------------------------------

    def prompt(self, message_id: Any, model: str, text: str | None) -> None:
        if self._first(message_id):
            self.turns += 1
            self._pend(model, _INPUT, text or "")

    def reply(self, message_id: Any, model: str, data: dict[str, Any]) -> None:
        if not self._first(message_id):
            return
        self.turns += 1
        recorded = data.get("outputTokens")
        if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 0:
            self._slot(model)[_OUTPUT] += recorded
        else:
            self._pend(model, _OUTPUT, reply_text(data))

    def reset(self) -> None:
        """A shutdown total covers everything so far: nothing is left to estimate."""
        self.turns, self.by_model, self.pending, self.pending_chars = 0, {}, [], 0

    def forget(self) -> None:
        """Per-call records took over: nothing is estimated from here on, no id is needed."""
        self.reset()
        self.seen_ids = []

    def flush(self) -> None:
        """Count the pending text."""
        for model, slot, text in self.pending:
            self._slot(model)[slot] += self._count(text)
        self.pending, self.pending_chars = [], 0

    # ---- read-outs -------------------------------------------------------------------------

    def usage_by_model(self) -> dict[str, Usage]:
        self.flush()
        return {
            m: Usage(input=i, output=o, source="counted") for m, (i, o) in self.by_model.items()
        }

    # ---- helpers ---------------------------------------------------------------------------

    def _first(self, message_id: Any) -> bool:
        """True the first time an id is seen (a message without an id is always new)."""
        if not isinstance(message_id, str) or not message_id:
            return True
        if message_id in self.seen_ids:
            return False
        self.seen_ids.append(message_id)
        del self.seen_ids[:-IDS_KEPT]
        return True

    def _slot(self, model: str) -> list[int]:
        return self.by_model.setdefault(model, [0, 0])

    def _pend(self, model: str, slot: int, text: str) -> None:
        if not text:
            return
        self.pending.append([model, slot, text])
        self.pending_chars += len(text)
        if self.pending_chars > PENDING_CHARS:
            self.flush()  # keep memory bounded: a long old session is counted as it is read
