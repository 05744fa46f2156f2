"""Values read from small side files, read again only when a file's stat changes.

Some agents keep facts in small files that they rewrite whole (Copilot CLI's workspace.yaml,
Gemini's .project_root and projects.json). A poll stats them, which costs no read, and reads a
file again only when its (mtime, size) differs from the last read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Generic, TypeVar

_T = TypeVar("_T")


class StatCache(Generic[_T]):
    """Per path: the stat it was read at and the value read (None: not usable)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int], _T | None]] = {}

    def get(self, path: str, read: Callable[[str, int], _T | None]) -> _T | None:
        """The value of `path`: `read(path, size)` when its stat changed, else the last one;
        None when the file cannot be stat'ed."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._entries.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        value = read(path, st.st_size)
        self._entries[path] = (stamp, value)
        return value
