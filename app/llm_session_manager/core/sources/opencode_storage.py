"""opencode's older JSON layout, `<data dir>/storage/`, from before its SQLite database.

    storage/session/<project id>/<session id>.json   {id, projectID, directory, parentID?, title,
                                                      time: {created, updated}}
    storage/message/<session id>/<message id>.json   the message JSON (as in the database's
                                                      `message.data`, plus id and sessionID)
    storage/part/<message id>/<part id>.json         text, tool calls, step markers

What to watch, and why: one session has one small session file, one message folder and one
file per message; a part file per text block or tool call. Statting every message file of every
session would cost tens of thousands of stats per poll on a long history, and statting only the
session files would miss a reply (opencode rewrites message files in place, without touching
the session file). So the watch list is every session file and every message *folder* (a new
message changes the folder's mtime), plus the message *files* of sessions whose folder changed
in the last `RECENT_S` seconds: only a live session rewrites its messages. Part files are read
only for a message whose file changed, and parsed files are cached by (mtime, size).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from llm_session_manager.core.sources.opencode_facts import (
    MessageTally,
    SessionRow,
    clean_prompt,
    tool_error,
)

RECENT_S = 6 * 3600  # a message folder changed this recently may belong to a live session

_Sig = tuple[int, int]
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Message:
    data: dict[str, Any]
    tool_errors: tuple[tuple[int | None, str | None], ...]
    text: str | None  # a user message's first text part, for the first prompt


class LegacyStorage:
    """One `storage/` folder: lists what to watch and reads the sessions that changed."""

    def __init__(self, root: Path, clock: Any = time.time) -> None:
        self.root = root
        self._clock = clock
        self._session_files: dict[str, str] = {}  # session id -> its session JSON
        self._rows: dict[str, tuple[_Sig, SessionRow]] = {}  # by path
        self._messages: dict[str, tuple[_Sig, _Message]] = {}  # by path
        # Files that could not be parsed in the last read (opencode rewrites them in place, so
        # one may be caught half-written): the poller reads them again on the next poll.
        self.unreadable: list[str] = []

    # -- watching -------------------------------------------------------------------------

    def watched(self) -> list[str]:
        out: list[str] = []
        found: dict[str, str] = {}
        now = self._clock()
        for project in _dirs(self.root / "session"):
            for entry in _files(project, ".json"):
                found[Path(entry).stem] = entry
                out.append(entry)
        self._session_files = found
        for sid in found:
            folder = str(self.root / "message" / sid)
            try:
                mtime = os.stat(folder).st_mtime
            except OSError:
                continue  # no message yet
            out.append(folder)
            if now - mtime < RECENT_S:
                out.extend(_files(folder, ".json"))
        return out

    def session_of(self, path: str) -> str | None:
        """The session a watched path belongs to (its session file, message folder or file)."""
        p = Path(path)
        message_root = self.root / "message"
        if p.parent.parent == self.root / "session":
            return p.stem
        if p.parent == message_root:
            return p.name
        if p.parent.parent == message_root:
            return p.parent.name
        return None

    # -- reading --------------------------------------------------------------------------

    def read(
        self, changed: Iterable[str]
    ) -> Iterator[tuple[SessionRow, MessageTally, str | None, list[str]]]:
        """(session, tally, first prompt, files) of every root session touched by `changed`."""
        self.unreadable = []
        rows = self._all_rows()
        roots = _roots(rows)
        touched = {roots.get(sid, sid) for p in changed if (sid := self.session_of(p))}
        children: dict[str, list[str]] = {}
        for sid, root in roots.items():
            if sid != root:
                children.setdefault(root, []).append(sid)
        for root in sorted(touched):
            if root not in rows:
                continue  # a message folder whose session file is gone
            tally = MessageTally()
            prompt: str | None = None
            paths = [self._session_files[root]]
            for sid in [root, *sorted(children.get(root, []))]:
                own = sid == root
                for path, message in self._read_messages(sid):
                    if own:
                        paths.append(path)
                        if prompt is None and message.text:
                            prompt = message.text
                    tally.add_message(message.data, own=own)
                    for at, text in message.tool_errors:
                        tally.add_tool_error(at, text)
            yield rows[root], tally, prompt, paths

    def _all_rows(self) -> dict[str, SessionRow]:
        rows: dict[str, SessionRow] = {}
        live_paths = set(self._session_files.values())
        for path in list(self._rows):
            if path not in live_paths:
                del self._rows[path]
        for sid, path in self._session_files.items():
            row = self._parsed(path, self._rows, partial(_row, sid))
            if row is not None:
                rows[sid] = row
        return rows

    def _read_messages(self, sid: str) -> list[tuple[str, _Message]]:
        out: list[tuple[str, _Message]] = []
        for path in _files(str(self.root / "message" / sid), ".json"):
            message = self._parsed(path, self._messages, partial(self._message, Path(path).stem))
            if message is not None:
                out.append((path, message))
        # Message ids sort by creation time (opencode's ids are time-ordered), files by name too.
        out.sort(key=lambda item: (_created(item[1].data), item[0]))
        return out

    def _parsed(
        self, path: str, cache: dict[str, tuple[_Sig, _T]], parse: Callable[[dict[str, Any]], _T]
    ) -> _T | None:
        """`path` parsed, from `cache` while its stat is unchanged; None when it is gone, or
        unreadable (then it is noted in `unreadable`, to be read again on the next poll)."""
        sig = _sig(path)
        if sig is None:
            return None
        cached = cache.get(path)
        if cached is None or cached[0] != sig:
            data = _load(path)
            if data is None:
                self.unreadable.append(path)
                return None
            cached = (sig, parse(data))
            cache[path] = cached
        return cached[1]

    def _message(self, mid: str, data: dict[str, Any]) -> _Message:
        errors: list[tuple[int | None, str | None]] = []
        text: str | None = None
        for path in _files(str(self.root / "part" / mid), ".json"):
            part = _load(path)
            if part is None:
                continue
            failed = tool_error(part)
            if failed is not None:
                errors.append(failed)
            if (data.get("role") == "user" and text is None and part.get("type") == "text"
                    and not part.get("synthetic") and isinstance(part.get("text"), str)
                    and part["text"].strip()):
                text = clean_prompt(part["text"])
        return _Message(data, tuple(errors), text)


def _row(sid: str, data: dict[str, Any]) -> SessionRow:
    t: dict[str, Any] = data["time"] if isinstance(data.get("time"), dict) else {}
    directory = data.get("directory")
    title = data.get("title")
    parent = data.get("parentID")
    version = data.get("version")
    return SessionRow(
        id=str(data.get("id") or sid),
        directory=directory if isinstance(directory, str) else None,
        title=title if isinstance(title, str) else None,
        created_ms=t.get("created") if isinstance(t.get("created"), int) else None,
        updated_ms=t.get("updated") if isinstance(t.get("updated"), int) else None,
        parent_id=parent if isinstance(parent, str) else None,
        version=version if isinstance(version, str) and version else None,
    )


def _roots(rows: dict[str, SessionRow]) -> dict[str, str]:
    out: dict[str, str] = {}
    for sid in rows:
        seen, current = {sid}, sid
        while (parent := rows[current].parent_id) and parent in rows and parent not in seen:
            seen.add(parent)
            current = parent
        out[sid] = current
    return out


def _created(data: dict[str, Any]) -> int:
    t = data.get("time")
    created = t.get("created") if isinstance(t, dict) else None
    return created if isinstance(created, int) else 0


def _dirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:  # missing: the layout is absent, at the cost of one failed call
        return []


def _files(folder: str | Path, suffix: str) -> Sequence[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.path for e in entries if e.name.endswith(suffix) and e.is_file())
    except OSError:
        return []


def _sig(path: str) -> _Sig | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read())
    except (OSError, ValueError):
        return None  # half-written (opencode rewrites in place) or removed: next change re-reads
    return value if isinstance(value, dict) else None
