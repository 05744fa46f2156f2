"""inotify lets the warm pass skip the stat of files that provably did not change (Linux).

Each scenario runs on two indexes over the same files: one watching, one closed (so it stats
every file, as before inotify). Both must report the same changes and problems at every pass;
the watching one must also have stat'ed exactly the files it could not prove unchanged.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.core import change_watch
from llm_session_manager.core.file_index import Changes, FileIndex, TrackedState
from llm_session_manager.core.models import Problem, SessionKey
from llm_session_manager.core.sources.base import FileAccumulator, TrackedFile
from llm_session_manager.core.tail import Cursor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")

LINE = b'{"n": 1}\n'


class Lines:
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def feed(self, line: bytes) -> None:
        self.lines.append(line)

    def dump(self) -> dict[str, Any]:
        return {"lines": [line.decode() for line in self.lines]}


class ListedSource:
    """Lists the files named in `names` (whether they exist or not), like a kept listing. Only
    what FileIndex.read_changes asks of a line source."""

    agent = "fake"

    def __init__(self, root: Path, names: list[str]) -> None:
        self.root = root
        self.names = names

    def discover(self) -> list[TrackedFile]:
        return [TrackedFile(str(self.root / name), Path(name).stem) for name in self.names]

    def new_accumulator(self, tracked: TrackedFile) -> FileAccumulator:
        return Lines()

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> FileAccumulator:
        raise ValueError("no saved state in these tests")


Result = tuple[set[SessionKey], int, int, int, list[Problem]]


class Twins:
    """A watching index and a stat-every-file index, read one after the other."""

    def __init__(self, source: ListedSource, stats: list[str]) -> None:
        self.source = source
        self.watched = FileIndex(None)
        self.plain = FileIndex(None)
        self.plain.close()  # closed for good: stats every file, as without inotify
        self._stats = stats

    def read(self) -> tuple[Result, set[str]]:
        """The watching index's result (checked equal to the plain one's) and the tracked
        files it stat'ed."""
        del self._stats[:]
        got = _read(self.watched, self.source)
        listed = {t.path for t in self.source.discover()}
        stated = {p for p in self._stats if p in listed}
        assert got == _read(self.plain, self.source)
        return got, stated

    def lines(self, name: str) -> list[bytes]:
        state = next(s for s in self.watched if s.tracked.path.endswith(f"/{name}"))
        assert isinstance(state.acc, Lines)
        return state.acc.lines


def _read(index: FileIndex, source: ListedSource) -> Result:
    problems: list[Problem] = []
    changes: Changes = index.read_changes([source], 1 << 20, problems, lambda: False)
    return (changes.dirty, changes.files_read, changes.bytes_read, changes.files_seen,
            sorted(problems, key=lambda p: p.where))  # fmt: skip


def key(name: str) -> SessionKey:
    return SessionKey("fake", Path(name).stem)


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path given to os.stat or os.lstat from now on."""
    seen: list[str] = []

    def counting(real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def call(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            seen.append(os.fspath(path))
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "stat", counting(os.stat))
    monkeypatch.setattr(os, "lstat", counting(os.lstat))
    return seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(change_watch, "_now", lambda: now[0])
    return now


@pytest.fixture
def twins(tmp_path: Path, stats: list[str], clock: list[float]) -> Iterator[Twins]:
    root = tmp_path / "sessions"
    root.mkdir()
    names = ["a.jsonl", "b.jsonl", "c.jsonl"]
    for name in names:
        (root / name).write_bytes(LINE * 3)
    pair = Twins(ListedSource(root, names), stats)
    (_, read, _, seen, _), stated = pair.read()
    assert (read, seen) == (3, 3)
    assert len(stated) == 3
    yield pair
    pair.watched.close()


def path(pair: Twins, name: str) -> Path:
    return pair.source.root / name


def test_an_unchanged_file_is_not_stated_and_still_seen(twins: Twins) -> None:
    (dirty, read, _, seen, problems), stated = twins.read()
    assert (dirty, read, seen, problems, stated) == (set(), 0, 3, [], set())


def test_appending_is_read_on_the_next_pass(twins: Twins) -> None:
    with path(twins, "b.jsonl").open("ab") as handle:
        handle.write(b'{"n": 2}\n')
    (dirty, read, size, _, _), stated = twins.read()
    assert (dirty, read, size) == ({key("b")}, 1, 9)
    assert stated == {str(path(twins, "b.jsonl"))}
    assert twins.lines("b.jsonl")[-1] == b'{"n": 2}'
    assert twins.read()[1] == set()


def test_a_file_replaced_by_rename_is_read_again(twins: Twins) -> None:
    target = path(twins, "a.jsonl")
    old = target.stat()
    new = target.with_name("a.tmp")
    new.write_bytes(b'{"n": 9}\n' * 3)  # the same size and mtime: only the inode tells
    os.utime(new, ns=(old.st_atime_ns, old.st_mtime_ns))
    new.replace(target)
    (dirty, read, size, _, _), stated = twins.read()
    assert (dirty, read, size, stated) == ({key("a")}, 1, 27, {str(target)})
    assert twins.lines("a.jsonl") == [b'{"n": 9}'] * 3


def test_truncation_is_read_from_the_start(twins: Twins) -> None:
    target = path(twins, "c.jsonl")
    os.truncate(target, len(LINE))
    (dirty, read, size, _, _), stated = twins.read()
    assert (dirty, read, size, stated) == ({key("c")}, 1, len(LINE), {str(target)})
    assert twins.lines("c.jsonl") == [LINE.strip()]


def test_a_new_file_in_a_watched_folder_is_read(twins: Twins) -> None:
    path(twins, "d.jsonl").write_bytes(LINE)
    twins.source.names.append("d.jsonl")
    (dirty, read, _, seen, _), stated = twins.read()
    assert (dirty, read, seen, stated) == ({key("d")}, 1, 4, {str(path(twins, "d.jsonl"))})


def test_a_deleted_file_is_reported_and_then_forgotten(twins: Twins) -> None:
    target = path(twins, "b.jsonl")
    target.unlink()  # still listed (a kept listing): its stat fails, as before
    (_, _, _, seen, problems), stated = twins.read()
    assert ([p.where for p in problems], seen, stated) == ([str(target)], 3, {str(target)})
    twins.source.names.remove("b.jsonl")
    twins.read()
    assert {s.tracked.path for s in twins.watched} == {
        str(path(twins, "a.jsonl")), str(path(twins, "c.jsonl"))
    }


def test_a_touch_is_handled_as_before(twins: Twins) -> None:
    target = path(twins, "a.jsonl")
    mtime = target.stat().st_mtime_ns + 5 * 10**9
    os.utime(target, ns=(mtime, mtime))
    (dirty, read, size, _, _), stated = twins.read()
    assert (dirty, read, size, stated) == ({key("a")}, 1, 0, {str(target)})


def test_an_overflow_stats_every_file(twins: Twins) -> None:
    watch = twins.watched._watch
    with path(twins, "a.jsonl").open("ab") as handle:
        handle.write(LINE)
    os.read(watch._fd, 1 << 16)  # the append's events are lost...
    watch._apply(struct.pack("iIII", -1, change_watch.IN_Q_OVERFLOW, 0, 0))  # ...and said so
    (dirty, _, _, _, _), stated = twins.read()
    assert dirty == {key("a")}
    assert len(stated) == 3
    assert twins.read()[1] == set()


def test_a_lost_watch_stats_its_folder_again(twins: Twins) -> None:
    watch = twins.watched._watch
    head = str(twins.source.root)
    watch._apply(struct.pack("iIII", watch._wd_of[head], change_watch.IN_IGNORED, 0, 0))
    assert len(twins.read()[1]) == 3  # stat'ed, and watched again
    assert twins.read()[1] == set()


def test_every_file_is_stated_again_after_a_while(twins: Twins, clock: list[float]) -> None:
    watch = twins.watched._watch
    with path(twins, "c.jsonl").open("ab") as handle:
        handle.write(LINE)
    os.read(watch._fd, 1 << 16)  # a change inotify did not report (mmap, another NFS host)
    clock[0] += change_watch.FULL_PASS_EVERY_S - 1
    # The watching index alone: the plain one would see the change at once.
    assert _read(twins.watched, twins.source)[0] == set()
    clock[0] += 1
    dirty, _, size, _, problems = _read(twins.watched, twins.source)
    assert (dirty, size, problems) == ({key("c")}, len(LINE), [])


def test_a_folder_renamed_and_rebuilt_is_stated_again(twins: Twins, tmp_path: Path) -> None:
    # The paths now name other files (same sizes and times, other inodes).
    root = twins.source.root
    root.rename(tmp_path / "moved")
    root.mkdir()
    for name in twins.source.names:
        (root / name).write_bytes(b'{"n": 7}\n' * 3)
        moved = os.stat(tmp_path / "moved" / name)
        os.utime(root / name, ns=(moved.st_atime_ns, moved.st_mtime_ns))
    (dirty, read, _, _, _), stated = twins.read()
    assert (dirty, read, len(stated)) == ({key("a"), key("b"), key("c")}, 3, 3)


def test_the_folder_check_catches_a_rebuilt_ancestor(tmp_path: Path, stats: list[str]) -> None:
    # Like the test above, one level up: the watched folder moved away without an event of its
    # own; only its inode number tells.
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    (home / "project" / "a.jsonl").write_bytes(LINE)
    pair = Twins(ListedSource(home / "project", ["a.jsonl"]), stats)
    pair.read()
    home.rename(tmp_path / "old-home")
    (home / "project").mkdir(parents=True)
    old = os.stat(tmp_path / "old-home" / "project" / "a.jsonl")
    (home / "project" / "a.jsonl").write_bytes(b"[1]\n" + b" " * 4 + b"\n")
    os.utime(home / "project" / "a.jsonl", ns=(old.st_atime_ns, old.st_mtime_ns))
    (dirty, read, _, _, _), _ = pair.read()
    assert (dirty, read) == ({key("a")}, 1)
    assert pair.lines("a.jsonl") == [b"[1]"]
    pair.watched.close()


def test_a_write_right_after_the_first_stat_is_seen(
    tmp_path: Path, stats: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folder is watched before the stat that makes the file's baseline: a write just after
    # that stat queues an event, and the next pass reads it.
    (tmp_path / "a.jsonl").write_bytes(LINE)
    real_lstat = os.lstat
    wrote: list[bool] = []

    def lstat(target: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        st = real_lstat(target, *args, **kwargs)
        if os.fspath(target).endswith("a.jsonl") and not wrote:
            wrote.append(True)
            with open(target, "ab") as handle:
                handle.write(LINE)
        return st

    monkeypatch.setattr(os, "lstat", lstat)
    index, source = FileIndex(None), ListedSource(tmp_path, ["a.jsonl"])
    assert _read(index, source)[2] == len(LINE)  # up to the size stat'ed
    dirty, _, size, _, _ = _read(index, source)
    assert (wrote, dirty, size) == ([True], {key("a")}, len(LINE))
    index.close()


def test_relative_paths_are_watched_until_the_working_folder_changes(
    tmp_path: Path, stats: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for place in ("one", "two"):
        (tmp_path / place / "sessions").mkdir(parents=True)
        (tmp_path / place / "sessions" / "a.jsonl").write_bytes(LINE * (2 if place == "two" else 1))
    monkeypatch.chdir(tmp_path / "one")
    pair = Twins(ListedSource(Path("sessions"), ["a.jsonl"]), stats)
    pair.read()
    assert pair.read()[1] == set()
    monkeypatch.chdir(tmp_path / "two")  # the same relative path, another file
    (dirty, _, size, _, _), stated = pair.read()
    assert (dirty, size, stated) == ({key("a")}, 2 * len(LINE), {"sessions/a.jsonl"})
    pair.watched.close()


def test_a_file_with_another_hard_link_is_stated_every_pass(
    twins: Twins, tmp_path: Path, clock: list[float]
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.link(path(twins, "a.jsonl"), other / "a-link.jsonl")
    # Linking notifies watches on the file itself, not on its folder: the next full pass sees it.
    clock[0] += change_watch.FULL_PASS_EVERY_S
    twins.read()
    assert twins.read()[1] == {str(path(twins, "a.jsonl"))}
    with (other / "a-link.jsonl").open("ab") as handle:  # the watched folder hears nothing
        handle.write(LINE)
    (dirty, _, size, _, _), _ = twins.read()
    assert (dirty, size) == ({key("a")}, len(LINE))


def test_a_symlinked_file_is_stated_every_pass(twins: Twins, tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_bytes(LINE)
    path(twins, "s.jsonl").symlink_to(target)
    twins.source.names.append("s.jsonl")
    twins.read()
    assert twins.read()[1] == {str(path(twins, "s.jsonl"))}
    with target.open("ab") as handle:
        handle.write(LINE)
    (dirty, _, size, _, _), _ = twins.read()
    assert (dirty, size) == ({key("s")}, len(LINE))


def test_a_forked_child_leaves_the_events_to_the_parent(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    with path(twins, "b.jsonl").open("ab") as handle:
        handle.write(LINE)
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)  # as in a forked read worker
    assert twins.watched._watch.begin_pass(cold=False) is False
    monkeypatch.setattr(os, "getpid", lambda: real_pid)
    assert twins.read()[0][0] == {key("b")}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("_open_inotify", lambda: None),  # not Linux, or no inotify
        ("_watch_budget", lambda: 0),  # over the budget (as when inotify_add_watch fails)
        ("LOCAL_FILESYSTEMS", frozenset()),  # NFS, SMB, FUSE...
    ],
)
def test_where_nothing_can_be_watched_every_file_is_stated_as_before(
    tmp_path: Path, stats: list[str], monkeypatch: pytest.MonkeyPatch, name: str, value: object
) -> None:
    monkeypatch.setattr(change_watch, name, value)
    names = ["a.jsonl", "b.jsonl"]
    for file in names:
        (tmp_path / file).write_bytes(LINE)
    pair = Twins(ListedSource(tmp_path, names), stats)
    everything = {str(tmp_path / file) for file in names}
    assert pair.read()[1] == everything
    assert pair.read()[1] == everything
    with (tmp_path / "a.jsonl").open("ab") as handle:
        handle.write(LINE)
    (dirty, read, size, _, _), stated = pair.read()
    assert (dirty, read, size, stated) == ({key("a")}, 1, len(LINE), everything)
    assert (pair.watched._watch._heads, pair.watched._watch.verified) == ({}, {})
    pair.watched.close()


def test_a_warm_index_starts_watching_on_its_second_pass(
    twins: Twins, stats: list[str]
) -> None:
    warm = FileIndex(None)
    tracked = TrackedFile(str(path(twins, "a.jsonl")), "a")
    warm._put(TrackedState(tracked, "fake", Cursor()))  # as if loaded from the store: not cold
    _read(warm, twins.source)
    assert warm._watch._fd == -1  # a one-pass CLI run never opens one
    _read(warm, twins.source)
    assert warm._watch._fd >= 0
    del stats[:]
    _read(warm, twins.source)
    assert not {p for p in stats if p.endswith(".jsonl")}
    warm.close()


def test_a_full_pass_unwatches_folders_no_longer_needed(twins: Twins, clock: list[float]) -> None:
    watch = twins.watched._watch
    assert set(watch._wd_of) == {str(twins.source.root)}
    twins.source.names.clear()
    clock[0] += change_watch.FULL_PASS_EVERY_S
    twins.read()
    assert (watch._wd_of, watch._heads, watch.verified) == ({}, {}, {})


def test_close_releases_the_descriptor(twins: Twins) -> None:
    fd = twins.watched._watch._fd
    twins.watched.close()
    with pytest.raises(OSError):
        os.fstat(fd)
    assert len(twins.read()[1]) == 3
