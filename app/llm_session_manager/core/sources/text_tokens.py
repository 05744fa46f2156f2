"""Counting text for records that carry no token counts, without letting a tokenizer fault
fail a poll: the first failure is kept as a message for the source to report as a Problem."""

from __future__ import annotations

from collections.abc import Callable

from llm_session_manager.core.errors import AppError


class TextCounter:
    """`count_tokens` made safe: 0 when there is no counter or it cannot be used."""

    def __init__(self, count_tokens: Callable[[str], int] | None) -> None:
        self._count = count_tokens
        self.failure: str | None = None

    def __call__(self, text: str) -> int:
        if not text or self._count is None or self.failure is not None:
            return 0
        try:
            return self._count(text)
        except AppError as exc:  # TokenizerUnavailable: say so once, count nothing
            self.failure = f"cannot count tokens: {exc}"
            return 0
