"""Where Cursor's agent transcripts are (formats.md §3.2), found by directory listings only.

`<projects root>/<slug>/agent-transcripts/` holds, per conversation (the file stem is the
composer id):
- `<id>.jsonl` or `<id>.txt` directly in it (the older, flat layout);
- `<id>/<id>.jsonl` or `<id>/<id>.txt` (nested);
- `<parent>/subagents/<id>.jsonl|.txt`: a subagent's transcript, which counts toward the parent.

One conversation can be found more than once (a `.txt` left beside the `.jsonl` that replaced it,
or a flat copy beside a nested one): one main file per conversation is kept, the JSON lines before
the text, the nested before the flat, as agentsview picks them. Every folder's listing is kept
while its stat stays the same (ListingCache), so a warm poll costs a stat per folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.listing import ListingCache, is_dir, is_file

TRANSCRIPTS_DIR = "agent-transcripts"
SUBAGENTS_DIR = "subagents"
ROLE_MAIN = "main"
ROLE_SUBAGENT = "subagent"
_EXTENSIONS = (".jsonl", ".txt")


def _stem(name: str) -> str | None:
    """The composer id a transcript's file name carries; None for any other file."""
    for ext in _EXTENSIONS:
        if name.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return None


def is_transcript(path: str) -> bool:
    """Whether `path` is laid out as an agent transcript (rather than a Cursor database)."""
    parts = path.replace("\\", "/").split("/")
    return _stem(parts[-1]) is not None and TRANSCRIPTS_DIR in parts[-4:-1]


def is_subagent(path: str) -> bool:
    return os.path.basename(os.path.dirname(path)) == SUBAGENTS_DIR


def transcript_slug(path: str) -> str | None:
    """The `<slug>` folder a transcript is under: the workspace path, lossily encoded."""
    parts = path.replace("\\", "/").split("/")
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] == TRANSCRIPTS_DIR:
            return parts[index - 1] or None
    return None


def _rank(tracked: TrackedFile) -> tuple[bool, bool]:
    """Sort key of a conversation's main candidates: JSON lines, then nested, first."""
    nested = os.path.basename(os.path.dirname(tracked.path)) == tracked.session_id
    return (not tracked.path.endswith(".jsonl"), not nested)


# -- listings -----------------------------------------------------------------------------


def _project_transcript_dirs(folder: str, listing: list[os.DirEntry[str]]) -> list[str]:
    return [os.path.join(e.path, TRANSCRIPTS_DIR) for e in listing if is_dir(e)]


def _transcripts_items(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile | str]:
    """Flat transcripts, and the paths of the conversations' own folders."""
    items: list[TrackedFile | str] = []
    for entry in listing:
        stem = _stem(entry.name)
        if stem is not None and is_file(entry):
            items.append(TrackedFile(entry.path, stem, ROLE_MAIN))
        elif is_dir(entry):
            items.append(entry.path)
    return items


def _conversation_items(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile | str]:
    """A conversation folder's own transcript (named after the folder) and its subagents/."""
    session_id = os.path.basename(folder)
    items: list[TrackedFile | str] = []
    for entry in listing:
        if _stem(entry.name) == session_id and is_file(entry):
            items.append(TrackedFile(entry.path, session_id, ROLE_MAIN))
        elif entry.name == SUBAGENTS_DIR and is_dir(entry):
            items.append(entry.path)
    return items


def _subagent_files(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile]:
    parent = os.path.basename(os.path.dirname(folder))
    return [TrackedFile(e.path, parent, ROLE_SUBAGENT)
            for e in listing if _stem(e.name) is not None and is_file(e)]  # fmt: skip


class TranscriptFinder:
    """Lists the transcripts under projects roots; each folder is listed again only when it
    changed."""

    def __init__(self) -> None:
        self._projects: ListingCache[list[str]] = ListingCache(_project_transcript_dirs, [])
        self._transcripts: ListingCache[list[TrackedFile | str]] = ListingCache(
            _transcripts_items, [])
        self._conversations: ListingCache[list[TrackedFile | str]] = ListingCache(
            _conversation_items, [])
        self._subagents: ListingCache[list[TrackedFile]] = ListingCache(_subagent_files, [])

    def find(self, roots: Sequence[Path]) -> list[TrackedFile]:
        """Each conversation's main transcript, then its subagents' ones."""
        mains: dict[str, list[TrackedFile]] = {}
        subagents: list[TrackedFile] = []
        for root in roots:
            for transcripts in self._projects.get(str(root)):
                for item in self._transcripts.get(transcripts):
                    if isinstance(item, TrackedFile):
                        mains.setdefault(item.session_id, []).append(item)
                        continue
                    for inner in self._conversations.get(item):
                        if isinstance(inner, TrackedFile):
                            mains.setdefault(inner.session_id, []).append(inner)
                        else:
                            subagents.extend(self._subagents.get(inner))
        for cache in (self._projects, self._transcripts, self._conversations, self._subagents):
            cache.prune()
        found = [min(candidates, key=_rank) for candidates in mains.values()]
        return found + subagents
