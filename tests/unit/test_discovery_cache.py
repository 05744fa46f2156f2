"""Discovery keeps each folder's listing while the folder's stat stays the same.

A folder's mtime moves when an entry is created, deleted or renamed in it, so a kept listing must
never hide a new or deleted record file. A folder changed in the last two seconds is listed every
time, so these tests move the cache's clock an hour on, and age the folders (their mtime an hour
back) so that a change made in the same clock tick as the setup still moves the mtime.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from llm_session_manager.core.sources import listing
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.codex import CodexSource
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource
from llm_session_manager.core.sources.gemini import GeminiSource
from llm_session_manager.core.sources.listing import COARSE_MTIME_NS, ListingCache

HOUR_NS = 3600 * 10**9


@pytest.fixture(autouse=True)
def clock_an_hour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "_now_ns", lambda: time.time_ns() + HOUR_NS)


def age(root: Path) -> None:
    """Set every folder under `root` (and `root`) an hour back, as if untouched since then."""
    old = time.time_ns() - HOUR_NS
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(old, old))


def names_cache() -> tuple[ListingCache[list[str]], list[str]]:
    """A cache deriving sorted entry names, and the folders it derived (to count listings)."""
    derived: list[str] = []

    def derive(folder: str, listing: list[os.DirEntry[str]]) -> list[str]:
        derived.append(folder)
        return sorted(e.name for e in listing)

    return ListingCache(derive, []), derived


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- the cache -------------------------------------------------------------------------------


def test_a_folder_is_listed_again_only_when_it_changed(tmp_path: Path) -> None:
    touch(tmp_path / "a.jsonl")
    age(tmp_path)
    cache, derived = names_cache()
    assert cache.get(str(tmp_path)) == ["a.jsonl"]
    assert cache.get(str(tmp_path)) == ["a.jsonl"]
    assert len(derived) == 1  # kept: one stat, no listing

    (tmp_path / "a.jsonl").write_bytes(b"appended\n")  # a file's change leaves the folder as is
    assert cache.get(str(tmp_path)) == ["a.jsonl"]
    assert len(derived) == 1

    touch(tmp_path / "b.jsonl")  # a new entry moves the folder's mtime
    assert cache.get(str(tmp_path)) == ["a.jsonl", "b.jsonl"]
    (tmp_path / "a.jsonl").rename(tmp_path / "c.jsonl")
    assert cache.get(str(tmp_path)) == ["b.jsonl", "c.jsonl"]
    (tmp_path / "b.jsonl").unlink()
    assert cache.get(str(tmp_path)) == ["c.jsonl"]


def test_a_folder_changed_within_the_coarse_window_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a filesystem with coarse timestamps a second change in the same tick leaves the stamp
    # as it was; a listing taken that close to the folder's last change is used once only.
    touch(tmp_path / "a.jsonl")
    age(tmp_path)
    st = os.stat(tmp_path)
    changed_at = max(st.st_mtime_ns, st.st_ctime_ns)
    cache, derived = names_cache()
    monkeypatch.setattr(listing, "_now_ns", lambda: changed_at + COARSE_MTIME_NS // 2)
    cache.get(str(tmp_path))
    cache.get(str(tmp_path))
    assert len(derived) == 2  # nothing changed on disk, and still listed again
    monkeypatch.setattr(listing, "_now_ns", lambda: changed_at + COARSE_MTIME_NS)
    cache.get(str(tmp_path))
    cache.get(str(tmp_path))
    assert len(derived) == 3  # listed once more, then kept


def test_a_folder_whose_mtime_was_put_back_is_listed_again(tmp_path: Path) -> None:
    # rsync and tar set a folder's mtime back after filling it; its ctime still moves.
    touch(tmp_path / "a.jsonl")
    age(tmp_path)
    old = os.stat(tmp_path).st_mtime_ns
    cache, derived = names_cache()
    cache.get(str(tmp_path))
    time.sleep(0.02)  # past the kernel's timestamp tick, so the ctime differs
    touch(tmp_path / "b.jsonl")
    os.utime(tmp_path, ns=(old, old))
    assert cache.get(str(tmp_path)) == ["a.jsonl", "b.jsonl"]
    assert len(derived) == 2


def test_a_folder_holding_a_symlink_is_listed_every_time(tmp_path: Path) -> None:
    target = touch(tmp_path / "elsewhere" / "x.jsonl")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "link.jsonl").symlink_to(target)
    age(tmp_path)
    cache, derived = names_cache()
    cache.get(str(folder))
    cache.get(str(folder))
    assert len(derived) == 2  # what the link points to can change without the folder's mtime


def test_a_missing_or_replaced_folder(tmp_path: Path) -> None:
    cache, derived = names_cache()
    folder = tmp_path / "gone"
    assert cache.get(str(folder)) == []
    touch(folder / "a.jsonl")
    age(folder)
    assert cache.get(str(folder)) == ["a.jsonl"]
    (folder / "a.jsonl").unlink()
    folder.rmdir()
    assert cache.get(str(folder)) == []
    touch(folder / "b.jsonl")  # a new folder at the same path (another inode, another mtime)
    age(folder)
    assert cache.get(str(folder)) == ["b.jsonl"]
    not_a_folder = touch(tmp_path / "file")
    assert cache.get(str(not_a_folder)) == []
    assert len(derived) == 2


def test_prune_forgets_folders_no_longer_asked_for(tmp_path: Path) -> None:
    for name in ("a", "b"):
        touch(tmp_path / name / "x.jsonl")
    age(tmp_path)
    cache, derived = names_cache()
    cache.get(str(tmp_path / "a"))
    cache.get(str(tmp_path / "b"))
    cache.prune()
    cache.get(str(tmp_path / "a"))
    cache.prune()  # b was not asked for in this pass
    cache.get(str(tmp_path / "a"))
    cache.get(str(tmp_path / "b"))
    assert derived.count(str(tmp_path / "a")) == 1
    assert derived.count(str(tmp_path / "b")) == 2


# -- the sources -----------------------------------------------------------------------------


def paths(found: list[TrackedFile]) -> set[str]:
    return {t.path for t in found}


def test_claude_finds_new_sessions_and_subagents_in_known_folders(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-home-dev-app"
    main = touch(project / "s1.jsonl")
    (project / "s1" / "tool-results").mkdir(parents=True)
    age(tmp_path)
    source = ClaudeCodeSource([tmp_path])
    assert paths(source.discover()) == {str(main)}

    second = touch(project / "s2.jsonl")  # a new session in a known project
    assert paths(source.discover()) == {str(main), str(second)}

    # A new subagents/ in a known session folder moves only that folder's mtime.
    before = os.stat(project).st_mtime_ns
    agent1 = touch(project / "s1" / "subagents" / "agent-1.jsonl")
    assert os.stat(project).st_mtime_ns == before
    found = source.discover()
    assert paths(found) == {str(main), str(second), str(agent1)}
    assert [t.session_id for t in found if t.path == str(agent1)] == ["s1"]

    age(tmp_path)
    source.discover()
    agent2 = touch(project / "s1" / "subagents" / "agent-2.jsonl")  # in a known subagents/
    assert paths(source.discover()) == {str(main), str(second), str(agent1), str(agent2)}

    second.unlink()
    agent1.unlink()
    assert paths(source.discover()) == {str(main), str(agent2)}


def test_claude_nested_transcripts_are_found_and_unchanged_folders_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "projects" / "-home-dev-app"
    flat = touch(project / "s1.jsonl")
    nested = touch(project / "s2" / "chat.jsonl")  # the older layout: the folder is the session
    touch(project / "memory" / "notes.jsonl")  # not a session folder
    age(tmp_path)
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: str) -> object:
        listed.append(str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    source = ClaudeCodeSource([tmp_path])
    found = source.discover()
    assert {(t.path, t.session_id, t.role) for t in found} == {
        (str(flat), "s1", "main"),
        (str(nested), "s2", "main"),
    }
    assert str(project / "memory") not in listed

    listed.clear()
    assert paths(source.discover()) == {str(flat), str(nested)}
    assert listed == []  # a warm pass stats the folders and lists none

    # A transcript added to a known session folder moves only that folder's mtime.
    before = os.stat(project).st_mtime_ns
    second = touch(project / "s2" / "resumed.jsonl")
    assert os.stat(project).st_mtime_ns == before
    listed.clear()
    found = source.discover()
    assert paths(found) == {str(flat), str(nested), str(second)}
    assert [t.session_id for t in found if t.path == str(second)] == ["s2"]
    assert listed == [str(project / "s2")]  # only the folder that changed is listed again


def test_codex_finds_a_new_rollout_in_a_known_day_folder(tmp_path: Path) -> None:
    uuid1, uuid2 = "0199a000-0000-7000-8000-000000000001", "0199a000-0000-7000-8000-000000000002"
    day = tmp_path / "sessions" / "2026" / "01" / "02"
    first = touch(day / f"rollout-2026-01-02T10-00-00-{uuid1}.jsonl")
    age(tmp_path)
    source = CodexSource([tmp_path])
    assert paths(source.discover()) == {str(first)}
    second = touch(day / f"rollout-2026-01-02T11-00-00-{uuid2}.jsonl")
    assert [t.path for t in source.discover()] == [str(first), str(second)]  # still sorted
    age(tmp_path)
    source.discover()
    later = touch(day.parent / "03" / f"rollout-2026-01-03T09-00-00-{uuid1}.jsonl")  # a new day
    assert paths(source.discover()) == {str(first), str(second), str(later)}


def test_copilot_finds_events_written_into_a_known_session_folder(tmp_path: Path) -> None:
    session = tmp_path / "session-state" / "abc"
    touch(session / "workspace.yaml", b"cwd: /x\n")
    age(tmp_path)
    source = CopilotCliSource([tmp_path])
    assert source.discover() == []  # no events.jsonl yet: nothing to track
    events = touch(session / "events.jsonl")
    found = source.discover()
    assert [(t.path, t.role) for t in found] == [
        (str(events), "main"),
        (str(session / "workspace.yaml"), "workspace"),
    ]
    age(tmp_path)
    source.discover()
    (session / "workspace.yaml").unlink()
    assert [t.path for t in source.discover()] == [str(events)]


def test_gemini_finds_a_new_chat_in_a_known_chats_folder(tmp_path: Path) -> None:
    chats = tmp_path / "tmp" / "proj" / "chats"

    def chat(name: str, session_id: str) -> Path:
        return touch(chats / name, orjson.dumps({"sessionId": session_id}) + b"\n")

    first = chat("session-2026-01-01T10-00-aaaaaaaa.jsonl", "aaaaaaaa-1")
    age(tmp_path)
    source = GeminiSource([tmp_path])
    assert [(t.path, t.session_id) for t in source.discover()] == [(str(first), "aaaaaaaa-1")]
    second = chat("session-2026-01-01T11-00-bbbbbbbb.jsonl", "bbbbbbbb-1")
    sub = touch(chats / "aaaaaaaa-1" / "cccccccc-1.jsonl")
    found = source.discover()
    assert [(t.path, t.session_id, t.role) for t in found] == [
        (str(sub), "aaaaaaaa-1", "subagent"),
        (str(first), "aaaaaaaa-1", "main"),
        (str(second), "bbbbbbbb-1", "main"),
    ]
