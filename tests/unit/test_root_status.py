"""root_statuses: each root an agent looks in, whether it exists and the record files under it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_session_manager.config import Config
from llm_session_manager.core.root_status import RootStatus, root_statuses
from llm_session_manager.core.sources.base import SnapshotRead, TrackedFile
from llm_session_manager.core.sources.registry import build_sources


def test_the_sample_home_counts_each_agents_record_files_per_root(sample_home: Path) -> None:
    found = {r.path: r for r in root_statuses(build_sources(Config(), {}, sample_home))}
    claude = found[sample_home / ".claude" / "projects"]
    codex = found[sample_home / ".codex" / "sessions"]
    assert claude.found and claude.files == len(list(claude.path.rglob("*.jsonl"))) > 0
    assert codex.found and codex.files == len(list(codex.path.rglob("rollout-*.jsonl"))) > 0
    assert found[sample_home / ".codex" / "archived_sessions"] == RootStatus(
        sample_home / ".codex" / "archived_sessions", found=False, files=0
    )
    # A record file that appears is counted on the next ask (nothing is cached here).
    folder = codex.path / "2026" / "11" / "25"
    folder.mkdir(parents=True)
    (folder / "rollout-2026-11-25T10-00-00-01a20fd1-0000-7000-8000-000000000001.jsonl").touch()
    again = {r.path: r for r in root_statuses(build_sources(Config(), {}, sample_home))}
    assert again[codex.path].files == codex.files + 1


class LineSource:
    agent = "lines"

    def __init__(self, roots: Sequence[Path], files: Sequence[Path] | OSError) -> None:
        self._roots, self._files = list(roots), files

    def roots(self) -> list[Path]:
        return self._roots

    def discover(self) -> list[TrackedFile]:
        if isinstance(self._files, OSError):
            raise self._files
        return [TrackedFile(str(f), f.stem) for f in self._files]


class DatabaseSource:
    agent = "database"

    def __init__(self, roots: Sequence[Path], watched: Sequence[Path]) -> None:
        self._roots, self._watched = list(roots), watched

    def roots(self) -> list[Path]:
        return self._roots

    def watched(self) -> list[str]:
        return [str(p) for p in self._watched]

    def read(self, changed: Sequence[str]) -> SnapshotRead:
        return SnapshotRead()

    def live(self, processes: Any, sessions: Any) -> dict[str, Any]:
        return {}


def test_nested_roots_count_a_file_once_for_the_deepest(tmp_path: Path) -> None:
    top, storage = tmp_path / "opencode", tmp_path / "opencode" / "storage"
    storage.mkdir(parents=True)
    database = top / "opencode.db"
    sources: list[Any] = [
        DatabaseSource([top, storage], [database, storage / "a.json", storage / "b.json"]),
        # The same root again from another source, and a file both list: counted once.
        LineSource([storage], [storage / "a.json"]),
    ]
    assert root_statuses(sources) == (
        RootStatus(top, found=True, files=1),
        RootStatus(storage, found=True, files=2),
    )


def test_a_source_that_cannot_list_leaves_its_roots_at_zero(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    sources: list[Any] = [
        LineSource([tmp_path / "broken"], PermissionError("denied")),
        LineSource([other], [other / "one.jsonl", tmp_path / "elsewhere.jsonl"]),
    ]
    assert root_statuses(sources) == (
        RootStatus(tmp_path / "broken", found=False, files=0),
        RootStatus(other, found=True, files=1),  # a file outside every root counts nowhere
    )
