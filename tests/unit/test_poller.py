"""The poller over a copy of the real-client home: incremental reads, restarts, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent_records import claude_request
from llm_session_manager.config import Config
from llm_session_manager.core import tail
from llm_session_manager.core.models import Session, Snapshot
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.store.repo import Store

COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"
MYAPP = Path(".claude/projects/-home-dev-src-myapp")


def make_poller(home: Path, data: Path, store: Store | None = None) -> Poller:
    config = Config()
    if store is None:
        store = Store.open(data / "sessions.db")
    return Poller(build_sources(config, {}, home), store, config, scan_processes=ProcessTable)


def by_id(snapshot: Snapshot) -> dict[str, Session]:
    return {s.key.session_id: s for s in snapshot.sessions}


def assistant_line(transcript: Path, n: int, input_tokens: int, cache_read: int) -> bytes:
    """A new assistant line shaped like the transcript's last one, with fresh ids and usage."""
    return claude_request(transcript, n, input_tokens=input_tokens, output_tokens=7,
                          cache_read=cache_read)  # fmt: skip


def test_appending_changes_only_that_session_and_reads_only_the_new_bytes(
    sample_home: Path, tmp_path: Path
) -> None:
    poller = make_poller(sample_home, tmp_path)
    first = poller.poll_once()
    assert first.files_read == first.files_seen > 10
    before = by_id(first)

    transcript = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    line = assistant_line(transcript, 1, input_tokens=100, cache_read=50_000)
    with transcript.open("ab") as handle:
        handle.write(line)
    second = poller.poll_once()

    assert second.files_read == 1
    assert second.bytes_read == len(line)
    assert poller.last_stats.sessions_rebuilt == 1
    after = by_id(second)
    changed = [sid for sid in before if before[sid].facts != after[sid].facts]
    assert changed == [COMPACTED]
    usage = after[COMPACTED].facts.usage
    old = before[COMPACTED].facts.usage
    assert usage.input == old.input + 100
    assert usage.cache_read == old.cache_read + 50_000
    assert after[COMPACTED].facts.context.tokens == 50_100

    third = poller.poll_once()
    assert third.files_read == 0 and third.bytes_read == 0


def test_a_restart_resumes_from_the_stored_offsets(sample_home: Path, tmp_path: Path) -> None:
    first = make_poller(sample_home, tmp_path).poll_once()
    transcript = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    line = assistant_line(transcript, 2, input_tokens=5, cache_read=1_000)
    with transcript.open("ab") as handle:
        handle.write(line)

    restarted = make_poller(sample_home, tmp_path)  # a new process: state from the store only
    snapshot = restarted.poll_once()
    assert snapshot.bytes_read == len(line)
    assert snapshot.files_read == 1
    old = by_id(first)[COMPACTED].facts.usage
    new = by_id(snapshot)[COMPACTED].facts.usage
    assert new.input == old.input + 5 and new.output == old.output + 7
    # Every other session came from the store unchanged.
    assert {k: s.facts for k, s in by_id(snapshot).items() if k != COMPACTED} == {
        k: s.facts for k, s in by_id(first).items() if k != COMPACTED
    }


def test_half_written_line_waits_then_counts_once(sample_home: Path, tmp_path: Path) -> None:
    poller = make_poller(sample_home, tmp_path)
    base = by_id(poller.poll_once())[COMPACTED].facts.usage
    transcript = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    line = assistant_line(transcript, 3, input_tokens=11, cache_read=0)
    with transcript.open("ab") as handle:
        handle.write(line[:40])
    half = poller.poll_once()
    assert by_id(half)[COMPACTED].facts.usage == base
    assert half.problems == ()
    with transcript.open("ab") as handle:
        handle.write(line[40:])
    done = poller.poll_once()
    assert by_id(done)[COMPACTED].facts.usage.input == base.input + 11
    assert done.bytes_read == len(line)  # the partial line is read again whole, once


def test_a_truncated_or_replaced_file_is_read_again(sample_home: Path, tmp_path: Path) -> None:
    poller = make_poller(sample_home, tmp_path)
    poller.poll_once()
    transcript = sample_home / MYAPP / f"{TOOL_ERROR}.jsonl"
    lines = transcript.read_bytes().splitlines(keepends=True)
    transcript.write_bytes(b"".join(lines[: len(lines) // 2]))  # truncated in place
    shrunk = by_id(poller.poll_once())[TOOL_ERROR].facts

    fresh = make_poller(sample_home, tmp_path / "fresh")
    assert shrunk == by_id(fresh.poll_once())[TOOL_ERROR].facts

    replacement = transcript.with_suffix(".new")
    replacement.write_bytes(b"".join(lines))
    os.replace(replacement, transcript)  # a new inode with the full content
    restored = by_id(poller.poll_once())[TOOL_ERROR].facts
    assert restored.errors.tool == 1
    assert restored.usage.total > shrunk.usage.total


def test_sessions_keep_their_figures_after_the_agent_deletes_the_transcript(
    sample_home: Path, tmp_path: Path
) -> None:
    first = by_id(make_poller(sample_home, tmp_path).poll_once())
    (sample_home / MYAPP / f"{TOOL_ERROR}.jsonl").unlink()
    again = by_id(make_poller(sample_home, tmp_path).poll_once())
    assert again[TOOL_ERROR].facts == first[TOOL_ERROR].facts


def test_bad_input_never_fails_a_poll(
    sample_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    projects = sample_home / MYAPP
    clean = by_id(make_poller(sample_home, tmp_path / "clean").poll_once())

    # Invalid JSON, invalid UTF-8 and a 50 MB single line in the middle of real transcripts.
    broken = projects / f"{COMPACTED}.jsonl"
    lines = broken.read_bytes().splitlines(keepends=True)
    broken.write_bytes(
        b"".join(lines[:3]) + b'{"type": "assistant", "message": {\n' + b"\xff\xfe\xfa\n"
        + b"".join(lines[3:])
    )
    huge = projects / "9f0872f4-68e2-4afc-b54d-208680e00ae9.jsonl"
    with huge.open("ab") as handle:
        handle.write(b'{"type":"user","pad":"' + b"x" * (50 << 20) + b'"}\n')
    # A file that cannot be opened (root ignores permissions, so refuse at the OS call).
    unreadable = str(projects / f"{TOOL_ERROR}.jsonl")
    real_open = open

    def guarded_open(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == unreadable:
            raise PermissionError(13, "Permission denied", unreadable)
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(tail, "open", guarded_open, raising=False)
    snapshot = make_poller(sample_home, tmp_path / "bad").poll_once()
    got = by_id(snapshot)

    where = {p.where: p.message for p in snapshot.problems}
    assert f"{broken}:4" in where and f"{broken}:5" in where
    assert "invalid UTF-8" in where[f"{broken}:5"] or "utf-8" in where[f"{broken}:5"].lower()
    assert any(k.startswith(str(huge)) and "over limit" in m for k, m in where.items())
    assert where[unreadable] == "Permission denied"
    # Everything else is still read, and the damaged files' good lines still count.
    assert got[COMPACTED].facts.usage == clean[COMPACTED].facts.usage
    assert got[huge.stem].facts.usage == clean[huge.stem].facts.usage
    assert TOOL_ERROR not in got
    assert len(got) == len(clean) - 1


def test_a_locked_database_keeps_polling_without_persistence(
    sample_home: Path, tmp_path: Path
) -> None:
    import sqlite3

    store = Store.open(tmp_path / "sessions.db", timeout=0.2)
    poller = make_poller(sample_home, tmp_path, store=store)
    other = sqlite3.connect(tmp_path / "sessions.db")
    other.execute("BEGIN EXCLUSIVE")
    try:
        snapshot = poller.poll_once()
        # the sessions are there, from the files
        assert sum(s.key.agent in ("claude-code", "codex") for s in snapshot.sessions) == 15
        assert any("locked" in p.message for p in snapshot.problems)
    finally:
        other.rollback()
        other.close()
    later = poller.poll_once()  # the cursors stayed dirty and are saved now
    assert not any("locked" in p.message for p in later.problems)
    stored = Store.open(tmp_path / "sessions.db").load_sessions()
    assert len(stored) == len(snapshot.sessions)


def test_the_agents_files_are_never_written(sample_home: Path, tmp_path: Path) -> None:
    def fingerprint() -> dict[str, tuple[bytes, int]]:
        return {
            str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(sample_home.rglob("*"))
            if p.is_file()
        }

    before = fingerprint()
    poller = make_poller(sample_home, tmp_path)
    poller.poll_once()
    poller.poll_once()
    assert fingerprint() == before
    assert json.dumps(sorted(before))  # the home is not empty


def test_unchanged_sessions_are_reused_until_their_health_is_due(
    sample_home: Path, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from llm_session_manager.core.assembly import JUDGEMENT_REFRESH

    now = [datetime(2026, 11, 25, 12, 0, tzinfo=UTC)]
    config = Config()
    poller = Poller(build_sources(config, {}, sample_home), Store.open(tmp_path / "s.db"),
                    config, scan_processes=ProcessTable, clock=lambda: now[0])  # fmt: skip
    first = by_id(poller.poll_once())
    now[0] += timedelta(seconds=5)
    second = by_id(poller.poll_once())
    assert all(second[k] is first[k] for k in first)  # nothing new: the same objects

    transcript = sample_home / MYAPP / f"{COMPACTED}.jsonl"
    with transcript.open("ab") as handle:
        handle.write(assistant_line(transcript, 9, input_tokens=1, cache_read=0))
    now[0] += timedelta(seconds=5)
    third = by_id(poller.poll_once())
    assert third[COMPACTED] is not second[COMPACTED]  # its facts changed: assembled anew
    assert third[TOOL_ERROR] is second[TOOL_ERROR]

    now[0] += JUDGEMENT_REFRESH
    later = by_id(poller.poll_once())
    assert later[TOOL_ERROR] is not third[TOOL_ERROR]  # health is due: judged at the new time
    assert later[TOOL_ERROR].facts == third[TOOL_ERROR].facts
    now_health, then_health = later[TOOL_ERROR].health, third[TOOL_ERROR].health
    assert now_health is not None and then_health is not None
    activity = {f.name: f.raw for f in now_health.factors}["activity"]
    assert activity != {f.name: f.raw for f in then_health.factors}["activity"]


def test_history_older_than_its_days_is_pruned(sample_home: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from llm_session_manager.core.models import SessionKey, UsageSample

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    store = Store.open(tmp_path / "s.db")
    key = SessionKey("claude-code", COMPACTED)
    store.add_samples([UsageSample(key, now - timedelta(days=31), 10),
                       UsageSample(key, now - timedelta(days=29), 20)])  # fmt: skip
    config = Config()
    assert config.history_days == 30
    Poller(build_sources(config, {}, sample_home), store, config, scan_processes=ProcessTable,
           clock=lambda: now).poll_once()  # fmt: skip
    kept = [s.total_tokens for s in store.samples_for(key)]
    assert 10 not in kept and 20 in kept
