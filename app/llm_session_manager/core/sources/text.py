"""Record text made to fit one table cell: titles and messages flattened to one clipped line."""

from __future__ import annotations

TITLE_CHARS = 120


def clip(text: str, limit: int) -> str:
    """One line, at most `limit` characters, so titles and messages fit a table cell."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def short_title(text: str) -> str:
    """A session title from free text (a first prompt, a name): one line of TITLE_CHARS."""
    return clip(text, TITLE_CHARS)
