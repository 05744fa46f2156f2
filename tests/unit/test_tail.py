"""The tail reader: only appended bytes, complete lines, bounded memory, bad lines reported."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from llm_session_manager.core.tail import Cursor, FileStat, read_appended


def _collect(path: Path, cursor: Cursor, **kw: int) -> tuple[list[bytes], object]:
    lines: list[bytes] = []
    result = read_appended(str(path), cursor, FileStat.of(str(path)), lines.append, **kw)
    return lines, result


def test_reads_only_appended_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":2}\n')
    lines, first = _collect(path, Cursor())
    assert lines == [b'{"a":1}', b'{"a":2}']
    assert first.bytes_read == 16 and first.cursor.offset == 16 and first.cursor.lines == 2

    with path.open("ab") as handle:
        handle.write(b'{"a":3}\n')
    lines, second = _collect(path, first.cursor)
    assert lines == [b'{"a":3}']
    assert second.bytes_read == 8
    assert second.cursor.lines == 3


def test_half_written_line_waits_for_the_next_poll(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":')
    lines, first = _collect(path, Cursor())
    assert lines == [b'{"a":1}']
    assert first.cursor.offset == 8  # the partial line is not consumed
    with path.open("ab") as handle:
        handle.write(b'2}\n')
    lines, second = _collect(path, first.cursor)
    assert lines == [b'{"a":2}']
    assert second.cursor.offset == path.stat().st_size


def test_unchanged_and_restart_detection(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"x\n" * 10)
    _, result = _collect(path, Cursor())
    assert result.cursor.unchanged(FileStat.of(str(path)))
    path.write_bytes(b"y\n")  # truncated and rewritten in place
    assert result.cursor.must_restart(FileStat.of(str(path)))
    replaced = tmp_path / "new.jsonl"
    replaced.write_bytes(b"z\n" * 20)
    os.replace(replaced, path)  # another inode, larger than before
    assert result.cursor.must_restart(FileStat.of(str(path)))


def test_bad_lines_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n{not json\n\xff\xfe\n{"a":4}\n')
    seen: list[object] = []

    def feed(line: bytes) -> None:
        seen.append(orjson.loads(line))

    result = read_appended(str(path), Cursor(), FileStat.of(str(path)), feed)
    assert seen == [{"a": 1}, {"a": 4}]
    assert result.bad_line_count == 2
    assert [b.line_number for b in result.bad_lines] == [2, 3]


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_over_long_line_is_skipped_without_holding_it(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a":1}\n' + b"x" * 5000 + b'\n{"a":3}\n')
    lines, result = _collect(path, Cursor(), max_line_bytes=1000, chunk_bytes=chunk)
    assert lines == [b'{"a":1}', b'{"a":3}']
    assert result.bad_line_count == 1
    assert "5000 bytes" in result.bad_lines[0].message
    assert result.cursor.lines == 3


def test_bytes_appended_after_the_stat_wait(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"a\n")
    stat = FileStat.of(str(path))
    with path.open("ab") as handle:
        handle.write(b"b\n")  # written between the stat and the read
    lines: list[bytes] = []
    result = read_appended(str(path), Cursor(), stat, lines.append)
    assert lines == [b"a"]
    assert result.cursor.offset == 2 == result.cursor.size
    lines.clear()
    read_appended(str(path), result.cursor, FileStat.of(str(path)), lines.append)
    assert lines == [b"b"]
