"""The workspace folder a Cursor projects `<slug>` stands for (formats.md §3.2).

Cursor names `~/.cursor/projects/<slug>` after the workspace path with every separator, `.`,
`_`, space and the drive's colon made `-`. That loses information (`my-app` and `my_app` and
`my/app` all give `my-app`), so a slug is never decoded by replacing `-` with `/`. Instead, as
agentsview does, the filesystem is walked from the root: a folder whose name, cut the same way into
parts, matches the slug's next parts is descended into. Only a single complete match is taken;
none, several, or a walk cut short by its listing budget leave the folder unknown.

Each slug is resolved once and kept: a found folder while it still exists, an unknown one for a
few minutes (the folder may be created, or a disk mounted, later).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable

from llm_session_manager.core.sources.listing import entries, is_dir

# Folders listed per resolution at most: a walk follows only matching names, so a real path
# needs one listing per level; this bounds the branches of names that match ambiguously.
MAX_LISTINGS = 200
RETRY_UNKNOWN_S = 300.0
_PARTS = re.compile(r"[\W_]+")  # anything but a letter or digit separates parts


def slug_parts(text: str) -> list[str]:
    """The parts of a slug, a path or a folder name, cut as Cursor's encoding cuts them."""
    return [part for part in _PARTS.split(text) if part]


class SlugResolver:
    def __init__(
        self,
        windows: bool = os.name == "nt",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._windows = windows
        self._clock = clock
        self._kept: dict[str, tuple[str | None, float]] = {}

    def resolve(self, slug: str, known: Iterable[str] = ()) -> str | None:
        """The folder `slug` encodes; `known` are folders known from elsewhere (the IDE's
        workspaces), tried before the filesystem."""
        kept = self._kept.get(slug)
        now = self._clock()
        if kept is not None:
            folder, at = kept
            if folder is not None and os.path.isdir(folder):
                return folder
            if folder is None and now - at < RETRY_UNKNOWN_S:
                return None
        parts = self._fold(slug_parts(slug))
        folder = self._known(parts, known) or self._walk(parts)
        self._kept[slug] = (folder, now)
        return folder

    def same(self, slug: str, folder: str) -> bool:
        """Whether `folder` encodes to `slug` (e.g. a process's cwd), without any I/O."""
        parts = self._fold(slug_parts(slug))
        return bool(parts) and parts == self._fold(slug_parts(folder))

    def _fold(self, parts: list[str]) -> list[str]:
        # Windows paths compare without case; elsewhere a folder's case is part of its name.
        return [p.casefold() for p in parts] if self._windows else parts

    def _known(self, parts: list[str], known: Iterable[str]) -> str | None:
        found = {folder for folder in known if self._fold(slug_parts(folder)) == parts}
        return found.pop() if len(found) == 1 else None

    def _walk(self, parts: list[str]) -> str | None:
        if not parts:
            return None
        start, rest = os.sep, parts
        if self._windows and len(parts[0]) == 1 and parts[0].isalpha():
            start, rest = f"{parts[0].upper()}:\\", parts[1:]  # the drive letter
        matches: list[str] = []
        budget = [MAX_LISTINGS]
        complete = self._descend(start, rest, matches, budget)
        return matches[0] if complete and len(matches) == 1 else None

    def _descend(self, folder: str, rest: list[str], matches: list[str], budget: list[int]) -> bool:
        """Add the folders under `folder` that `rest` can encode; False when cut short."""
        if not rest:
            matches.append(folder)
            return True
        if budget[0] <= 0:
            return False
        budget[0] -= 1
        complete = True
        for entry in sorted(entries(folder), key=lambda e: e.name):
            name = self._fold(slug_parts(entry.name))
            if not name or name != rest[: len(name)] or not is_dir(entry):
                continue
            complete = self._descend(entry.path, rest[len(name):], matches, budget) and complete
            if len(matches) > 1:
                break  # ambiguous already: no need to look further
        return complete
