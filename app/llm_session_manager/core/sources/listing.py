"""Directory listings for discovery: a folder that is missing or unreadable lists as empty.

Discovery runs every poll over folders the agents create, rename and delete under it, so a
listing or an entry that cannot be read means "nothing to track there" rather than an error.
"""

from __future__ import annotations

import os


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
