"""The file index's warm pass: one stat per unchanged file, and still every change seen.

The folders are aged (and the listing cache's clock moved on) so that discovery keeps their
listings (see test_discovery_cache.py): these are the polls where nothing is listed again and
only stats tell what changed.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from llm_session_manager.config import Config
from llm_session_manager.core.file_index import Changes, FileIndex
from llm_session_manager.core.models import Problem, SessionKey
from llm_session_manager.core.sources import listing
from llm_session_manager.core.sources.base import SnapshotSource, Source
from llm_session_manager.core.sources.registry import build_sources

MAX_LINE = 16 << 20
MYAPP = Path(".claude/projects/-home-dev-src-myapp")
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"
NEW_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(autouse=True)
def clock_an_hour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "_now_ns", lambda: time.time_ns() + 3600 * 10**9)


def age(root: Path) -> None:
    old = time.time_ns() - 3600 * 10**9
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(old, old))


def read(index: FileIndex, sources: list[Source | SnapshotSource]) -> tuple[Changes, list[Problem]]:
    problems: list[Problem] = []
    return index.read_changes(sources, MAX_LINE, problems, lambda: False), problems


def tracked_paths(index: FileIndex) -> set[str]:
    """The tracked files, after checking that the warm pass's stamps match their cursors."""
    stamps = {
        s.tracked.path: (s.cursor.size, s.cursor.mtime_ns, s.cursor.ino, s.cursor.dev)
        for s in index
    }
    assert index._stamps == stamps
    return set(stamps)


def test_a_warm_pass_reads_nothing_and_then_exactly_what_changed(sample_home: Path) -> None:
    age(sample_home)
    sources = build_sources(Config(), {}, sample_home)
    index = FileIndex(None)
    cold, _ = read(index, sources)
    assert cold.files_read > 0
    before = tracked_paths(index)

    warm, problems = read(index, sources)
    assert (warm.files_read, warm.bytes_read, warm.dirty, problems) == (0, 0, set(), [])
    assert warm.files_seen == cold.files_seen

    transcript = sample_home / MYAPP / f"{TOOL_ERROR}.jsonl"
    line = transcript.read_bytes().splitlines(keepends=True)[-1]
    with transcript.open("ab") as handle:
        handle.write(line)
    appended, _ = read(index, sources)
    assert (appended.files_read, appended.bytes_read) == (1, len(line))
    assert appended.dirty == {SessionKey("claude-code", TOOL_ERROR)}

    # A new session in a project folder whose listing was kept.
    copy = sample_home / MYAPP / f"{NEW_ID}.jsonl"
    shutil.copyfile(transcript, copy)
    added, _ = read(index, sources)
    assert added.dirty == {SessionKey("claude-code", NEW_ID)}
    assert tracked_paths(index) == before | {str(copy)}

    age(sample_home)
    read(index, sources)
    transcript.unlink()
    removed, _ = read(index, sources)
    assert tracked_paths(index) == before - {str(transcript)} | {str(copy)}
    assert removed.files_read == 0


def test_a_file_replaced_in_place_is_read_again_from_its_start(sample_home: Path) -> None:
    age(sample_home)
    sources = build_sources(Config(), {}, sample_home)
    index = FileIndex(None)
    read(index, sources)
    transcript = sample_home / MYAPP / f"{TOOL_ERROR}.jsonl"
    data = transcript.read_bytes()
    replacement = transcript.with_suffix(".tmp")
    replacement.write_bytes(data)  # same size and content, another inode
    os.utime(replacement, ns=(transcript.stat().st_atime_ns, transcript.stat().st_mtime_ns))
    replacement.replace(transcript)
    again, _ = read(index, sources)
    assert (again.files_read, again.bytes_read) == (1, len(data))


def test_deleting_one_agents_file_leaves_the_others_tracked(sample_home: Path) -> None:
    sources = build_sources(Config(), {}, sample_home)
    index = FileIndex(None)
    read(index, sources)
    agents = {state.agent for state in index}
    assert {"claude-code", "codex"} <= agents
    codex_file = next(s.tracked.path for s in index if s.agent == "codex")
    others = {s.tracked.path for s in index if s.tracked.path != codex_file}
    Path(codex_file).unlink()
    read(index, sources)
    assert tracked_paths(index) == others


def test_a_cancelled_pass_forgets_no_file_it_did_not_reach(sample_home: Path) -> None:
    sources = build_sources(Config(), {}, sample_home)
    index = FileIndex(None)
    read(index, sources)
    before = tracked_paths(index)
    claude = [s for s in sources if s.agent == "claude-code"]
    asked = iter([False, True])  # asked before the source, then before its first file
    problems: list[Problem] = []
    changes = index.read_changes(claude, MAX_LINE, problems, lambda: next(asked, True))
    assert (changes.files_seen, changes.dirty, problems) == (0, set(), [])
    assert tracked_paths(index) == before  # the cursors of the files not reached stay
    again, _ = read(index, sources)
    assert (again.files_read, again.bytes_read) == (0, 0)  # nothing to read from scratch
