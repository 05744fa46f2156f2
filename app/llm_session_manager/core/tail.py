"""Read only what was appended to a file since the last poll, one complete line at a time.

The performance contract: an unchanged file costs one `stat`; a grown file is read from the saved
offset; a half-written last line (no newline yet) is left for the next poll; a file that shrank or
was replaced (other inode) is read again from 0. Memory is bounded by the chunk size and the
longest line allowed, never by the file's size.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

CHUNK_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 16 << 20


@dataclass(frozen=True)
class FileStat:
    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str) -> FileStat:
        st = os.stat(path)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Cursor:
    """Where reading a file stopped: the identity and size seen, and the offset of the next line."""

    dev: int = 0
    ino: int = 0
    size: int = 0
    mtime_ns: int = 0
    offset: int = 0
    lines: int = 0  # complete lines consumed so far, for "path:line" in problems

    def unchanged(self, stat: FileStat) -> bool:
        return (
            stat.dev == self.dev
            and stat.ino == self.ino
            and stat.size == self.size
            and stat.mtime_ns == self.mtime_ns
        )

    def must_restart(self, stat: FileStat) -> bool:
        """True when the file was replaced or truncated: what we read no longer stands."""
        replaced = (stat.dev, stat.ino) != (self.dev, self.ino) and self.offset > 0
        return replaced or stat.size < self.offset


@dataclass(frozen=True)
class BadLine:
    line_number: int
    message: str


@dataclass(frozen=True)
class TailResult:
    cursor: Cursor
    bytes_read: int
    bad_lines: tuple[BadLine, ...]
    bad_line_count: int


MAX_REPORTED_BAD_LINES = 20


def read_appended(
    path: str,
    cursor: Cursor,
    stat: FileStat,
    on_line: Callable[[bytes], None],
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> TailResult:
    """Feed every complete line after `cursor.offset` to `on_line`; return the new cursor.

    `on_line` raising ValueError (bad JSON, invalid UTF-8, wrong shape) marks that line bad; the
    rest of the file is still read. A line longer than `max_line_bytes` is skipped without being
    held in memory and reported. The caller restarts (fresh accumulator, `Cursor()`) when
    `cursor.must_restart(stat)`.
    """
    offset = cursor.offset
    line_no = cursor.lines
    bad: list[BadLine] = []
    bad_count = 0
    bytes_read = 0
    pending = bytearray()
    skipping = False  # inside an over-long line: drop bytes until its newline
    line_start = offset  # file offset where `pending` (or the skipped line) starts

    with open(path, "rb") as handle:
        handle.seek(offset)
        position = offset
        # Read up to the size seen by the stat only: bytes appended meanwhile wait for the next
        # poll, so the cursor never claims an offset beyond the size it records.
        remaining = stat.size - offset
        while remaining > 0:
            chunk = handle.read(min(chunk_bytes, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            bytes_read += len(chunk)
            start = 0
            while True:
                newline = chunk.find(b"\n", start)
                if newline < 0:
                    if not skipping:
                        pending += chunk[start:]
                        if len(pending) > max_line_bytes:
                            skipping = True
                            pending.clear()
                    break
                line_end_offset = position + newline + 1
                if skipping:
                    skipping = False
                    line_no += 1
                    bad_count += 1
                    if len(bad) < MAX_REPORTED_BAD_LINES:
                        size = line_end_offset - line_start - 1  # without its newline
                        bad.append(BadLine(line_no, f"line of {size} bytes skipped (over limit)"))
                else:
                    if pending:
                        pending += chunk[start:newline]
                        line = bytes(pending)
                        pending.clear()
                    else:
                        line = chunk[start:newline]
                    line_no += 1
                    if len(line) > max_line_bytes:
                        bad_count += 1
                        if len(bad) < MAX_REPORTED_BAD_LINES:
                            bad.append(
                                BadLine(line_no, f"line of {len(line)} bytes skipped (over limit)")
                            )
                    elif line.strip():
                        try:
                            on_line(line)
                        except ValueError as exc:
                            bad_count += 1
                            if len(bad) < MAX_REPORTED_BAD_LINES:
                                bad.append(BadLine(line_no, _describe(exc)))
                line_start = line_end_offset
                start = newline + 1
            position += len(chunk)

    # The half-written tail (no newline yet) is not consumed: the next poll starts at its start.
    new_cursor = Cursor(
        dev=stat.dev,
        ino=stat.ino,
        size=stat.size,
        mtime_ns=stat.mtime_ns,
        offset=line_start,
        lines=line_no,
    )
    return TailResult(new_cursor, bytes_read, tuple(bad), bad_count)


def _describe(exc: ValueError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {exc.start}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
