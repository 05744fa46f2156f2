"""Context windows Claude Code recorded outside the transcripts, in its state file `.claude.json`.

When the CLI exits it writes, under `projects[<cwd>]`, the `lastSessionId` and a `lastModelUsage`
keyed by the model as it ran: `claude-sonnet-4-5[1m]` when the 1M window was on, and in some
versions a `contextWindow` per model (formats.md §9). A transcript's model id never carries that
suffix, so for the models that have 1M only as an option this is the one record of it.

The file is rewritten whole by the CLI and grows with every project ever opened, so it is read
only when its stat changes, only ever read, and a missing, unreadable or malformed file means
nothing is known. What it said is remembered for as long as the app runs: the next session run in
the same folder replaces `lastSessionId`, yet the earlier session still ran with that window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.core.sources.stat_cache import StatCache

STATE_FILE = ".claude.json"
LARGE_WINDOW = 1_000_000  # what the "[1m]" suffix selects
_LARGE_SUFFIX = "[1m]"
# Far above any real state file (one entry of a few KB per project): a bigger file is not read.
_MAX_BYTES = 64 << 20

# session id -> model (without the suffix) -> window
Windows = dict[str, dict[str, int]]


def state_files(
    config_dirs: Sequence[Path], env: Mapping[str, str], home: Path
) -> list[Path]:
    """Where Claude Code keeps its state file for these config dirs.

    With `CLAUDE_CONFIG_DIR` set the CLI keeps `.claude.json` inside each config dir; otherwise it
    is `~/.claude.json`, beside `~/.claude`. A config dir's own file is looked for in both cases,
    since a dir set in the app's config may have been a `CLAUDE_CONFIG_DIR` for the CLI.
    """
    paths: list[Path] = []
    if not env.get("CLAUDE_CONFIG_DIR", "").strip():
        paths.append(home / STATE_FILE)
    for folder in config_dirs:
        path = folder / STATE_FILE
        if path not in paths:
            paths.append(path)
    return paths


class RecordedWindows:
    """The windows the state files name, by session id and model."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = [str(p) for p in paths]
        self._files: StatCache[Windows] = StatCache()
        self._seen: dict[str, Windows] = {}  # the last value read from each file (identity)
        self._known: Windows = {}

    def window(self, session_id: str, model: str | None) -> int | None:
        """The window `session_id` ran `model` with, as recorded; None when not recorded."""
        if not model:
            return None
        self.changed()
        return self._known.get(session_id, {}).get(model)

    def changed(self) -> set[str]:
        """Stat the files (a changed one is read and remembered) and return the sessions that
        the files read now name: their windows may have been recorded since they were built."""
        named: set[str] = set()
        for path in self._paths:
            found = self._files.get(path, _read)
            if found is not None and self._seen.get(path) is not found:
                self._seen[path] = found
                for sid, models in found.items():
                    self._known.setdefault(sid, {}).update(models)
                    named.add(sid)
        return named


def _read(path: str, size: int) -> Windows | None:
    if size > _MAX_BYTES:
        return None
    try:
        with open(path, "rb") as handle:
            return parse_windows(orjson.loads(handle.read()))
    except (OSError, orjson.JSONDecodeError):  # gone, unreadable, or caught mid-write
        return None


def parse_windows(document: Any) -> Windows:
    """Each project's last session and the window of each model it used, where recorded."""
    projects = document.get("projects") if isinstance(document, dict) else None
    found: Windows = {}
    if not isinstance(projects, dict):
        return found
    for project in projects.values():
        if not isinstance(project, dict):
            continue
        session_id = project.get("lastSessionId")
        usage = project.get("lastModelUsage")
        if not isinstance(session_id, str) or not session_id or not isinstance(usage, dict):
            continue
        for key, entry in usage.items():
            if not isinstance(key, str):
                continue
            large = key.endswith(_LARGE_SUFFIX)
            model = key[: -len(_LARGE_SUFFIX)] if large else key
            window = _positive(entry.get("contextWindow") if isinstance(entry, dict) else None)
            if window is None and large:
                window = LARGE_WINDOW
            if model and window is not None:
                found.setdefault(session_id, {})[model] = window
    return found


def _positive(value: Any) -> int | None:
    # bool is an int subclass; true/false is not a size.
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)
