"""The details chart draws a real session's history, compaction included: while its transcript
grows under the app's eyes (the sample session that ran /compact, written back line by line), and
when the session is older than the app (its history then comes from its records alone)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from llm_session_manager.config import Config
from llm_session_manager.core.poller import Poller
from llm_session_manager.paths import AppPaths
from llm_session_manager.store.repo import Store
from llm_session_manager.ui.main_window import MainWindow
from llm_session_manager.ui.usage_chart import FILL_COLOUR, UsageChart
from llm_session_manager.ui.worker import PollerHost
from window_facts import COMPACTED, StepClock, replay, sample_poller, transcript_of


def chart_of(qtbot, tmp_path: Path, poller: Poller, points: int) -> UsageChart:
    """The details chart of the compacted session in a window over `poller`, once it shows at
    least `points` points (drawn from what the poller thread sends)."""
    host = PollerHost(poller, 600_000)
    window = MainWindow(host, Config(), AppPaths.under(tmp_path / "app"))
    qtbot.addWidget(window)
    host.worker.snapshot_ready.connect(window.on_snapshot)
    try:
        host.start()
        qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=10_000)
        window.resize(1100, 800)
        window.show_session(COMPACTED)
        chart = window.details.chart
        qtbot.waitUntil(lambda: len(chart.series.points) >= points, timeout=10_000)
    finally:
        assert host.shutdown()
    return chart


def test_chart_shows_history_with_the_compaction(qtbot, tmp_path: Path, sample_home: Path) -> None:
    store = Store.open(tmp_path / "sessions.db")
    clock = StepClock(datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    poller = sample_poller(sample_home, store, clock=clock)

    def poll() -> None:
        poller.poll_once()
        clock.advance(3)

    replay(transcript_of(sample_home, COMPACTED), poll, steps=12)
    try:
        chart = chart_of(qtbot, tmp_path, poller, 5)
    finally:
        store.close()
    series = chart.series
    totals = [p.total_tokens for p in series.points]
    assert totals == sorted(totals) and totals[-1] == 38_818  # cumulative, to the session's total
    assert len(series.compactions) == 1  # /compact: 9.8k of context became 591
    assert series.end > series.start

    image = QImage(chart.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    chart.render(image)
    blue = sum(
        1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
        if image.pixelColor(x, y) == FILL_COLOUR
    )
    assert blue > 20  # the context line and its dots were drawn


def test_a_session_older_than_the_app_is_drawn_from_its_records(
    qtbot, tmp_path: Path, sample_home: Path
) -> None:
    """The app starts after the session ended: the store has one sample of it (the first poll's),
    and the chart still shows every request and the /compact, read by the poller thread."""
    store = Store.open(tmp_path / "sessions.db")
    try:
        chart = chart_of(qtbot, tmp_path, sample_poller(sample_home, store), 2)
        samples = store.samples_for(COMPACTED)
    finally:
        store.close()
    assert len(samples) == 1  # what the chart had before: a single point
    series = chart.series
    assert len(series.points) == 6  # a point per request, and the compaction
    assert series.points[-1].total_tokens == 38_818
    assert len(series.compactions) == 1
    chart.grab()  # paints the records' series without error


def test_empty_chart_says_why(qtbot) -> None:
    chart = UsageChart()
    qtbot.addWidget(chart)
    chart.set_samples([])
    assert chart.series.points == ()
    chart.resize(300, 150)
    chart.grab()  # paints without error
