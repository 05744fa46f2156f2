"""The Cursor source on a real Cursor workspace database (slevin48/cursor-history, Nov 2024).

The file is copied into a fake Cursor user dir in tmp_path, with a `workspace.json` naming the
folder the chats were about. Expected values are computed here from the database itself, read
with the stdlib, and counted with the same offline tokenizer: the file records no token counts.
The newer global layout (`cursorDiskKV`) is in `test_source_cursor_global.py`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.models import LiveState, SessionFacts, SessionKey
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import SnapshotRead, SnapshotSource
from llm_session_manager.core.sources.cursor import CursorSource, default_user_dirs
from llm_session_manager.core.tokens import count_tokens

REAL_DB = (Path(__file__).resolve().parents[1] / "data" / "public" / "cursor"
           / "slevin48-cursor-history__workspace-state.reduced.vscdb")
FOLDER_URI = "file:///c%3A/Users/ydebray/Documents/mobilechat"
FOLDER = "c:/Users/ydebray/Documents/mobilechat"
CHAT_KEY = "workbench.panel.aichat.view.aichat.chatdata"
COMPOSERS_KEY = "composer.composerData"
BIG_TAB = "2aa483d1-573c-4039-ae4e-7415e28d2605"  # "Ionic App Sidebar Customization Guide"
BIG_COMPOSER = "a76419da-5045-4dcb-a1d4-307eab526a30"  # 7 prompts, 7 replies, named


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _item(db: Path, key: str) -> Any:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (value,) = conn.execute("SELECT value FROM ItemTable WHERE key = ?", (key,)).fetchone()
    conn.close()
    return json.loads(value)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    user = tmp_path / "Cursor" / "User"
    workspace = user / "workspaceStorage" / "0f3c2a"
    workspace.mkdir(parents=True)
    shutil.copyfile(REAL_DB, workspace / "state.vscdb")
    (workspace / "workspace.json").write_text(json.dumps({"folder": FOLDER_URI}))
    return user


def _db(user: Path) -> Path:
    return user / "workspaceStorage" / "0f3c2a" / "state.vscdb"


def _read_all(user: Path) -> dict[str, SessionFacts]:
    source = CursorSource([user], count_tokens=count_tokens)
    result = source.read(source.watched())
    assert result.problems == () and result.retry == ()
    return {f.key.session_id: f for f in result.facts}


def test_default_user_dirs_per_os(tmp_path: Path) -> None:
    assert default_user_dirs({}, tmp_path, "linux") == [tmp_path / ".config/Cursor/User"]
    assert default_user_dirs({}, tmp_path, "darwin") == [
        tmp_path / "Library/Application Support/Cursor/User"]
    appdata = str(tmp_path / "Roaming")
    assert default_user_dirs({"APPDATA": appdata}, tmp_path, "win32") == [
        Path(appdata) / "Cursor" / "User"]


def test_every_composer_and_chat_tab_is_a_session_of_the_workspace_folder(user_dir: Path) -> None:
    composers = _item(_db(user_dir), COMPOSERS_KEY)["allComposers"]
    tabs = _item(_db(user_dir), CHAT_KEY)["tabs"]
    sessions = _read_all(user_dir)
    assert set(sessions) == {c["composerId"] for c in composers} | {t["tabId"] for t in tabs}
    assert len(sessions) == 26 + 5
    assert {f.cwd for f in sessions.values()} == {FOLDER}
    assert {f.key.agent for f in sessions.values()} == {"cursor"}


def test_chat_tab_counts_titles_model_and_counted_tokens(user_dir: Path) -> None:
    tab = next(t for t in _item(_db(user_dir), CHAT_KEY)["tabs"] if t["tabId"] == BIG_TAB)
    # The last user bubble of every tab is empty: the input box, not a sent prompt.
    assert tab["bubbles"][-1]["type"] == "user" and tab["bubbles"][-1]["text"] == ""
    prompts = [b["text"] for b in tab["bubbles"] if b["type"] == "user" and b["text"]]
    replies = [b["text"] for b in tab["bubbles"] if b["type"] == "ai"]
    facts = _read_all(user_dir)[BIG_TAB]
    assert facts.title == "Ionic App Sidebar Customization Guide"
    assert (facts.prompts, facts.replies) == (16, 16) == (len(prompts), len(replies))
    assert facts.model == "claude-3.5-sonnet"
    assert facts.usage.source == "counted"
    assert facts.usage.input == sum(count_tokens(t) for t in prompts)
    assert facts.usage.output == sum(count_tokens(t) for t in replies)
    assert [(m.model, m.usage) for m in facts.by_model] == [("claude-3.5-sonnet", facts.usage)]
    assert facts.last_activity_at == _ms(tab["lastSendTime"])
    assert facts.first_prompt == prompts[0]
    # No prompt size is recorded anywhere in this file: the fill cannot be known.
    assert facts.context.tokens is None
    assert facts.errors.total == 0


def test_inline_composer_counts_times_and_counted_tokens(user_dir: Path) -> None:
    composer = next(c for c in _item(_db(user_dir), COMPOSERS_KEY)["allComposers"]
                    if c["composerId"] == BIG_COMPOSER)
    texts = [(b["type"], b["text"]) for b in composer["conversation"]]
    facts = _read_all(user_dir)[BIG_COMPOSER]
    assert facts.title == composer["name"] == (
        "create settings page that enables to enter OpenAI API key,")
    assert (facts.prompts, facts.replies) == (7, 7)
    assert facts.usage.source == "counted"
    assert facts.usage.input == sum(count_tokens(t) for k, t in texts if k == 1)
    assert facts.usage.output == sum(count_tokens(t) for k, t in texts if k == 2)
    assert facts.model is None  # composers of this era record no model
    assert facts.started_at == _ms(composer["createdAt"])
    assert facts.last_activity_at == _ms(composer["lastUpdatedAt"])
    assert facts.turn_hint == "turn_done"
    assert facts.context.tokens is None


def test_unnamed_composer_is_titled_by_its_first_prompt(user_dir: Path) -> None:
    facts = _read_all(user_dir)["f77134a3-06b6-4ba9-85e0-b25bb2479e9f"]
    assert facts.title == facts.first_prompt == "remove the folder subpages"


# ---- busy database, through the real poller --------------------------------------------------


class RecordingSource:
    """The real source, with every SnapshotRead it returned kept for the test to look at."""

    def __init__(self, inner: CursorSource) -> None:
        self.inner = inner
        self.agent = inner.agent
        self.reads: list[SnapshotRead] = []

    def roots(self) -> Sequence[Path]:
        return self.inner.roots()

    def watched(self) -> list[str]:
        return self.inner.watched()

    def read(self, changed: Sequence[str]) -> SnapshotRead:
        result = self.inner.read(changed)
        self.reads.append(result)
        return result

    def live(self, processes: ProcessTable,
             sessions: Mapping[str, SessionFacts]) -> dict[str, LiveState]:
        return self.inner.live(processes, sessions)


def _retitle(conn: sqlite3.Connection, title: str) -> None:
    (raw,) = conn.execute("SELECT value FROM ItemTable WHERE key = ?", (CHAT_KEY,)).fetchone()
    chat = json.loads(raw)
    next(t for t in chat["tabs"] if t["tabId"] == BIG_TAB)["chatTitle"] = title
    conn.execute("UPDATE ItemTable SET value = ? WHERE key = ?", (json.dumps(chat), CHAT_KEY))


def _title(poller: Poller) -> str | None:
    snapshot = poller.poll_once()
    found = [s for s in snapshot.sessions if s.key == SessionKey("cursor", BIG_TAB)]
    return found[0].facts.title if found else None


def test_locked_database_neither_blocks_nor_fails_the_poll(user_dir: Path) -> None:
    db = _db(user_dir)
    source = RecordingSource(CursorSource([user_dir], count_tokens=count_tokens))
    assert isinstance(source, SnapshotSource)
    poller = Poller([source], None, Config(), scan_processes=ProcessTable)
    # The agent's own connection, in the file's rollback-journal mode, holding the write lock.
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        assert _title(poller) is None  # nothing yet, and no exception
        assert source.reads[-1].retry == (str(db),) and source.reads[-1].facts == ()
        _retitle(holder, "Renamed while locked")
        holder.execute("COMMIT")  # written and released
        assert _title(poller) == "Renamed while locked"  # the retried file was read again

        _retitle(holder, "Second name")  # a committed change the poller has not seen...
        holder.execute("BEGIN EXCLUSIVE")  # ...and the lock taken again before it looks
        assert _title(poller) == "Renamed while locked"  # the old facts stay
        assert source.reads[-1].retry == (str(db),)
        holder.execute("ROLLBACK")
        assert _title(poller) == "Second name"
        assert source.reads[-1].retry == ()
    finally:
        holder.close()


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_reading_never_changes_or_adds_a_file(user_dir: Path) -> None:
    before = _tree(user_dir.parent)
    source = CursorSource([user_dir], count_tokens=count_tokens)
    poller = Poller([source], None, Config(), scan_processes=ProcessTable)
    for _ in range(2):
        poller.poll_once()
    source.read(source.watched())
    assert _tree(user_dir.parent) == before


def test_an_unreadable_database_is_a_problem_not_a_failure(user_dir: Path) -> None:
    _db(user_dir).write_bytes(b"not a database at all, just text" * 10)
    source = CursorSource([user_dir], count_tokens=count_tokens)
    result = source.read(source.watched())
    assert result.facts == () and result.retry == ()
    assert [p.where for p in result.problems] == [str(_db(user_dir))]
