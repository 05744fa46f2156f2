"""Directory listings for discovery: a folder that is missing or unreadable lists as empty.

Discovery runs every poll over folders the agents create, rename and delete under it, so a
listing or an entry that cannot be read means "nothing to track there" rather than an error.

`ListingCache` keeps what a source made of each folder's listing and lists the folder again only
when its stat changed: a folder's mtime and ctime move when an entry is created, deleted or renamed
in it (not when a file in it is appended to), so a warm poll costs one `stat` per folder, not a
listing. The ctime is compared too because no program can set it back: tools that restore a
folder's mtime (rsync, tar) still leave a new ctime.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Generic, TypeVar

_T = TypeVar("_T")

# A listing taken less than this after the folder's last change (mtime or ctime) is used once,
# not kept: timestamps are coarse (a kernel tick on ext4, 1 s on HFS+, 2 s on FAT), so a change
# made in the same tick as the last one would leave them as they were and the kept listing would
# miss it.
COARSE_MTIME_NS = 2_000_000_000


def _now_ns() -> int:
    return time.time_ns()  # a function, so tests can move the clock on


def entries(folder: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
    """The entries of `folder` in the order the OS gives them; [] when it cannot be listed."""
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:  # missing, not a directory, or unreadable: nothing to track there
        return []


def entries_by_name(folder: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
    """The entries of `folder` sorted by name; [] when it cannot be listed."""
    return sorted(entries(folder), key=lambda e: e.name)


def is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether the entry is a directory (following links); False when that cannot be told."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def is_file(entry: os.DirEntry[str]) -> bool:
    """Whether the entry is a regular file (following links); False when that cannot be told."""
    try:
        return entry.is_file()
    except OSError:
        return False


class ListingCache(Generic[_T]):
    """Per folder: `derive(folder, entries)` as of the folder's last listing.

    `derive` must depend on the names and types of the folder's entries only (not on the files'
    contents), since it is not called again while the folder's stat stays the same. A folder
    holding a symlink is listed every time: what a link points to can change without the
    folder's mtime moving. `prune()` after a pass drops the folders that pass did not ask for.
    """

    def __init__(self, derive: Callable[[str, list[os.DirEntry[str]]], _T], empty: _T) -> None:
        self._derive = derive
        self._empty = empty  # a folder that cannot be listed (never derived, never cached)
        self._kept: dict[str, tuple[tuple[int, int, int, int], _T]] = {}
        self._asked: set[str] = set()

    def get(self, folder: str) -> _T:
        try:
            st = os.stat(folder)
        except OSError:  # missing or unreadable: nothing to track there
            return self._empty
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        self._asked.add(folder)
        kept = self._kept.get(folder)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        listed_at = _now_ns()  # before listing: a change from here on moves the stamp
        try:
            with os.scandir(folder) as it:
                listing = list(it)
        except OSError:  # not a directory, or gone since the stat
            self._kept.pop(folder, None)
            return self._empty
        value = self._derive(folder, listing)
        changed_at = max(st.st_mtime_ns, st.st_ctime_ns)
        if listed_at - changed_at >= COARSE_MTIME_NS and not any(_is_symlink(e) for e in listing):
            self._kept[folder] = (stamp, value)
        else:
            self._kept.pop(folder, None)
        return value

    def prune(self) -> None:
        """Forget the folders not asked for since the last prune (deleted, or no longer reached)."""
        for folder in [f for f in self._kept if f not in self._asked]:
            del self._kept[folder]
        self._asked = set()


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return True  # cannot tell: do not keep the listing
