"""Where the sources look and what they find there, for a window that has no session to show.

Asked on the poller's thread (the window never touches files): each root's existence, and how
many record files the sources list under it now. The listing is the sources' own `discover()` /
`watched()`, the directory listings a poll makes anyway, so nothing is opened or read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_session_manager.core.sources.base import SnapshotSource, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RootStatus:
    """One folder an agent's records are looked for in."""

    path: Path
    found: bool  # the folder (or, for a database root, the file) exists
    files: int = 0  # record files listed under it now


def root_statuses(sources: Sequence[Source | SnapshotSource]) -> tuple[RootStatus, ...]:
    """Every source's roots in order, each once, with the record files found under it.

    A file under nested roots (opencode's folder and its storage/) counts for the deepest one.
    """
    roots: list[Path] = []
    for source in sources:
        for root in source.roots():
            if root not in roots:
                roots.append(root)
    counts = dict.fromkeys(roots, 0)
    deepest_first = sorted(roots, key=lambda r: len(str(r)), reverse=True)
    for path in _listed_files(sources):
        owner = next((r for r in deepest_first if _is_under(path, str(r))), None)
        if owner is not None:
            counts[owner] += 1
    return tuple(RootStatus(root, _exists(root), counts[root]) for root in roots)


def _listed_files(sources: Sequence[Source | SnapshotSource]) -> set[str]:
    """The files every source lists now; a source that cannot list is left out (the poll
    reports its problem)."""
    found: set[str] = set()
    for source in sources:
        try:
            if isinstance(source, SnapshotSource):
                found.update(source.watched())
            else:
                found.update(t.path for t in source.discover())
        except OSError as exc:
            log.debug("cannot list %s for the empty state: %s", source.agent, exc)
    return found


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _exists(root: Path) -> bool:
    try:
        return root.exists()
    except OSError:  # e.g. a folder that cannot be entered: as good as missing
        return False
