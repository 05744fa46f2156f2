"""The chart's history from the agents' own records: the bound on points, the per-session cache
(unchanged files are not read again, appended bytes only are), and the fallback to the stored
samples when the records cannot be read."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_records import claude_request
from llm_session_manager.config import Config
from llm_session_manager.core.models import SessionFacts, SessionKey, UsageSample
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.session_history import SessionHistory
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.registry import build_sources
from llm_session_manager.core.timeline import MAX_POINTS, PointLog, Timeline, TimelinePoint
from llm_session_manager.core.timeline_cache import TimelineCache
from llm_session_manager.core.usage_series import timeline_series
from llm_session_manager.store.repo import Store

COMPACTED = SessionKey("claude-code", "81c214e6-cd39-403f-b856-ac5ce6a0f407")  # 38,818 tokens
GEMINI_DIR = Path(".gemini")


# -- the bound ---------------------------------------------------------------------------------


def test_point_log_keeps_at_most_the_bound_with_every_compaction_and_the_last_point() -> None:
    log = PointLog()
    total = 0
    compactions = []
    for i in range(600):
        total += 100
        if i in (50, 299, 598):
            log.add_compaction(float(i), total, 1_000)
            compactions.append(float(i))
        else:
            # a sawtooth: the context grows and a compaction brings it down
            log.add(float(i), total, 10_000 + 100 * (i % 300))
    timeline = log.timeline()
    assert len(timeline.points) <= MAX_POINTS
    assert len(timeline.points) >= MAX_POINTS - 5  # thinned to the bound, not far below it
    assert timeline.compactions == tuple(compactions)
    kept = {p.at: p for p in timeline.points}
    assert all(at in kept and kept[at].context_tokens == 1_000 for at in compactions)
    assert timeline.points[-1] == TimelinePoint(599.0, 60_000, 10_000 + 100 * 299)
    assert timeline.points[0].at == 0.0
    ats = [p.at for p in timeline.points]
    assert ats == sorted(ats)
    # the peak just before a compaction survives thinning (its run keeps its largest context)
    assert kept[298.0].context_tokens == 10_000 + 100 * 298


def test_point_log_memory_stays_bounded_while_points_stream_in() -> None:
    log = PointLog(limit=50)
    for i in range(10_000):
        log.add(float(i), i, i)
        assert len(log) <= 100  # thinned whenever it passes twice the bound
    assert len(log.timeline().points) <= 50
    assert log.timeline().points[-1].total_tokens == 9_999


def test_timeline_series_marks_each_compaction_once_and_gives_fill() -> None:
    timeline = Timeline(
        (TimelinePoint(10.0, 100, 150_000), TimelinePoint(20.0, 200, 5_000),
         TimelinePoint(30.0, 300, None), TimelinePoint(40.0, 400, 6_000)),
        (20.0,),
    )  # fmt: skip
    series = timeline_series(timeline, 200_000)
    assert [p.compaction for p in series.points] == [False, True, False, False]
    assert series.points[0].fill == pytest.approx(0.75)
    assert series.points[2].fill is None
    assert (series.start, series.end, series.max_tokens) == (10.0, 40.0, 400)
    assert timeline_series(timeline, None).points[0].fill is None


# -- the cache ---------------------------------------------------------------------------------


def _home_with_one_session(tmp_path: Path, home: Path) -> tuple[Path, SessionFacts]:
    """A config dir holding only the compacted session; its facts as the poller builds them."""
    src = home / ".claude" / "projects" / "-home-dev-src-myapp" / f"{COMPACTED.session_id}.jsonl"
    project = tmp_path / "cfg" / "projects" / "-p"
    project.mkdir(parents=True)
    transcript = project / src.name
    shutil.copyfile(src, transcript)
    poller = Poller([ClaudeCodeSource([tmp_path / "cfg"])], None, Config(),
                    scan_processes=ProcessTable)  # fmt: skip
    poller.poll_once(advise=False)
    session = poller.session(COMPACTED)
    assert session is not None
    return transcript, session.facts


def _usage_line(transcript: Path, n: int, tokens: int) -> bytes:
    """A new request shaped like the transcript's last one."""
    return claude_request(transcript, n, input_tokens=tokens, output_tokens=0,
                          timestamp=f"2030-01-01T00:00:{n:02d}.000Z")  # fmt: skip


def test_cache_reads_an_unchanged_session_once_and_then_only_what_was_appended(
    tmp_path: Path, sample_home: Path
) -> None:
    transcript, facts = _home_with_one_session(tmp_path, sample_home)
    source = ClaudeCodeSource([tmp_path / "cfg"])
    cache = TimelineCache()
    first = cache.get(source, facts)
    size = transcript.stat().st_size
    assert cache.bytes_read == size
    assert first.points[-1].total_tokens == facts.usage.total == 38_818

    assert cache.get(source, facts) == first  # re-selected, unchanged: not read again
    assert cache.bytes_read == size

    line = _usage_line(transcript, 1, 1_000)
    with transcript.open("ab") as handle:
        handle.write(line[:40])  # the agent is half-way through writing the line
    assert cache.get(source, facts).points[-1].total_tokens == 38_818
    with transcript.open("ab") as handle:
        handle.write(line[40:])
    grown = cache.get(source, facts)
    assert grown.points[-1].total_tokens == 38_818 + 1_000
    assert grown.points[-1].context_tokens == 1_000
    assert cache.bytes_read == size + 40 + len(line)  # the half line twice, nothing else again
    assert grown.points[:-1] == first.points


def test_cache_reads_a_replaced_file_afresh(tmp_path: Path, sample_home: Path) -> None:
    transcript, facts = _home_with_one_session(tmp_path, sample_home)
    source = ClaudeCodeSource([tmp_path / "cfg"])
    cache = TimelineCache()
    cache.get(source, facts)
    # Rewritten shorter (e.g. the history was cleaned up): what was read no longer stands.
    transcript.write_bytes(_usage_line(transcript, 2, 500))
    again = cache.get(source, facts)
    assert [p.total_tokens for p in again.points] == [500]
    assert again.compactions == ()


def test_cache_keeps_only_a_few_sessions(tmp_path: Path, sample_home: Path) -> None:
    transcript, facts = _home_with_one_session(tmp_path, sample_home)
    source = ClaudeCodeSource([tmp_path / "cfg"])
    cache = TimelineCache(kept_sessions=1)
    cache.get(source, facts)
    other = SessionFacts(SessionKey("claude-code", "other"), paths=facts.paths)
    cache.get(source, other)
    read = cache.bytes_read
    cache.get(source, facts)  # pushed out by the other session: read again
    assert cache.bytes_read == read + transcript.stat().st_size


# -- the poller thread's choice ----------------------------------------------------------------


def _poller(home: Path, store: Store | None) -> Poller:
    config = Config()
    return Poller(build_sources(config, {}, home), store, config, scan_processes=ProcessTable)


def test_history_of_a_session_without_samples_comes_from_its_records(sample_home: Path) -> None:
    poller = _poller(sample_home, None)  # no store: no sample was ever written
    poller.poll_once(advise=False)
    session = poller.session(COMPACTED)
    assert session is not None and session.facts.context.window
    series = SessionHistory(poller).series(COMPACTED)
    assert len(series.points) > 1
    totals = [p.total_tokens for p in series.points]
    assert totals == sorted(totals) and totals[-1] == 38_818
    assert len(series.compactions) == 1
    # fill against the window the session has now (as the table shows it)
    assert series.points[-1].fill == pytest.approx(9_945 / session.facts.context.window)


def test_unreadable_records_fall_back_to_the_samples_with_a_warning(
    tmp_path: Path, sample_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "sessions.db")
    try:
        poller = _poller(sample_home, store)
        poller.poll_once(advise=False)  # writes one sample per session
        at = datetime(2030, 1, 1, tzinfo=UTC)
        store.add_samples([UsageSample(COMPACTED, at, 40_000, 1_000, 200_000)])
        transcript = next(sample_home.rglob(f"{COMPACTED.session_id}.jsonl"))
        transcript.unlink()  # gone since the poll (the session's facts still name it)
        with caplog.at_level(logging.WARNING):
            series = SessionHistory(poller).series(COMPACTED)
    finally:
        store.close()
    assert [p.total_tokens for p in series.points] == [38_818, 40_000]
    assert any("using samples" in r.getMessage() and str(COMPACTED) in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_a_session_whose_records_draw_nothing_uses_the_samples(
    tmp_path: Path, sample_home: Path
) -> None:
    # A Copilot CLI log from before usage records: only shutdown totals, no call to draw.
    logs = sorted((sample_home / ".copilot" / "session-state").glob("*/events.jsonl"))
    events = logs[0]
    kept = [line for line in events.read_bytes().splitlines(keepends=True)
            if b'"session.usage_record"' not in line]  # fmt: skip
    events.write_bytes(b"".join(kept))
    store = Store.open(tmp_path / "sessions.db")
    try:
        poller = _poller(sample_home, store)
        snapshot = poller.poll_once(advise=False)
        copilot = next(s.key for s in snapshot.sessions
                       if s.key.agent == "copilot-cli" and s.facts.paths[0] == str(events))
        series = SessionHistory(poller).series(copilot)
        samples = store.samples_for(copilot)
    finally:
        store.close()
    assert len(samples) == 1
    assert [p.total_tokens for p in series.points] == [samples[0].total_tokens]
