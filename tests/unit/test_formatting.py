"""The window's pure cell formatting and its chart series, on sessions from the real sample home."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llm_session_manager.config import Config, HealthConfig
from llm_session_manager.core import formatting as fmt
from llm_session_manager.core.models import Session, SessionKey, Usage, UsageSample
from llm_session_manager.core.root_status import RootStatus
from llm_session_manager.core.usage_series import usage_series
from window_facts import COMPACTED, SAY_HELLO, sample_snapshot

NOW = datetime(2026, 11, 24, 23, 10, tzinfo=UTC)


@pytest.fixture
def sessions(sample_home: Path) -> dict[SessionKey, Session]:
    return {s.key: s for s in sample_snapshot(sample_home).sessions}


def test_token_cell_marks_counted_figures() -> None:
    assert fmt.token_cell(Usage(input=9000, output=389)) == "9.4k"
    assert fmt.token_cell(Usage(input=88_000, source="counted")) == "~88k"
    assert fmt.token_cell(Usage(input=1_250_000)) == "1.25M"
    tip = fmt.token_tooltip(Usage(input=88_000, source="counted"))
    assert "88,000 tokens" in tip and "counted" in tip


def test_real_session_cells(sessions: dict[SessionKey, Session]) -> None:
    s = sessions[COMPACTED]
    assert fmt.token_cell(s.facts.usage) == "38.8k"
    assert "38,818 tokens, exact" in fmt.token_tooltip(s.facts.usage)
    # The sample's model (claude-opus-4-8) has the 1M window in the shipped table.
    window = Config().window_for(s.facts.model)
    assert window == 1_000_000
    assert fmt.context_cell(s) == f"{9945 / window * 100:.0f}%"
    tip = fmt.context_tooltip(s)
    assert f"9,945 of {window:,} tokens" in tip and "the model table" in tip
    assert fmt.compaction_text(s) == "1 compaction; the last one went from 9.8k to 591 tokens"
    assert fmt.cost_cell(s.cost_usd) == "$0.03"
    assert "estimate" in fmt.cost_tooltip(s.cost_usd)
    assert fmt.window_title_for(s) == "LLM Session Manager — claude-code:81c214e6"
    assert fmt.health_cell(s) == f"{s.health.score:.0f}" if s.health else False


def test_unknown_values_show_a_dash(sessions: dict[SessionKey, Session]) -> None:
    api_error = next(s for s in sessions.values() if s.facts.context.tokens is None)
    assert fmt.context_cell(api_error) == "—"
    assert "do not tell" in fmt.context_tooltip(api_error)
    assert fmt.cost_cell(None) == "—"
    assert fmt.cost_cell(0.004) == "<$0.01"
    assert fmt.relative_time(None, NOW) == "—"


def test_relative_and_absolute_times() -> None:
    assert fmt.relative_time(NOW - timedelta(seconds=20), NOW) == "now"
    assert fmt.relative_time(NOW - timedelta(minutes=25), NOW) == "25m"
    assert fmt.relative_time(NOW - timedelta(hours=3, minutes=5), NOW) == "3h"
    assert fmt.relative_time(NOW - timedelta(days=3), NOW) == "3d"
    assert fmt.absolute_time(NOW).startswith(NOW.astimezone().strftime("%Y-%m-%d %H:%M"))


def test_fill_level_follows_the_health_thresholds() -> None:
    hc = HealthConfig()  # fill_ok 0.5, fill_bad 0.95; healthy >= 70, warning >= 40
    assert fmt.fill_level(None, hc) is None
    assert fmt.fill_level(0.05, hc) == "healthy"
    assert fmt.fill_level(0.63, hc) == "healthy"
    assert fmt.fill_level(0.70, hc) == "warning"
    assert fmt.fill_level(0.91, hc) == "critical"


def test_counts_and_search(sessions: dict[SessionKey, Session]) -> None:
    # The recorded process table makes two sessions live; every other sample session ended.
    assert fmt.counts_text(sessions.values()) == f"2 live · {len(sessions) - 2} ended"
    hidden = replace(sessions[SAY_HELLO], hidden=True)
    assert fmt.counts_text([hidden]) == "0 live · 0 ended"
    tagged = replace(sessions[COMPACTED], tags=("Backend",))
    text = fmt.search_text(tagged)
    assert "backend" in text and "81c214e6" in text and "myapp" in text


def test_empty_state_gives_each_root_its_own_count() -> None:
    home = Path("/home/u")
    roots = [
        RootStatus(home / ".claude/projects", found=False),
        RootStatus(home / ".codex/sessions", found=True, files=3),
        RootStatus(home / ".codex/archived_sessions", found=True, files=1),
        RootStatus(home / ".gemini/tmp", found=True, files=0),
        RootStatus(Path("/srv/records"), found=True, files=2),
    ]
    text = fmt.empty_state_text(roots, home)
    assert text.startswith(
        "No sessions yet. Looking in: ~/.claude/projects (not found), ~/.codex/sessions (3 files), "
        "~/.codex/archived_sessions (1 file), ~/.gemini/tmp (no files), /srv/records (2 files).\n"
    )
    assert text.endswith("Start Claude Code, Codex, Cursor, Copilot or Gemini CLI and they "
                         "appear here.")
    assert "No agent is enabled" in fmt.empty_state_text([], home)
    # Before any poll has told the roots, no guess about them.
    assert "Looking in" not in fmt.empty_state_text(None, home)
    assert fmt.home_relative(Path("/home/u/.codex"), Path("/home/u")) == "~/.codex"


def test_filtered_empty_state_says_which_filter_hides_the_sessions() -> None:
    assert fmt.filtered_empty_text("live", {"ended": 26}, False, 26) == (
        "No live sessions. 26 ended — tick “show ended” to see them."
    )
    assert fmt.filtered_empty_text("live", {"ended": 1}, True, 26) == (
        "No live session matches the search and filters. 1 ended one does — tick “show ended” "
        "to see it."
    )
    assert fmt.filtered_empty_text("waiting", {"ended": 4, "idle": 2}, False, 6) == (
        "No waiting sessions. 6 in other states — choose State “All” to see them."
    )
    # Nothing the state filter holds back: the search and the other filters hide them all.
    assert fmt.filtered_empty_text("live", {}, True, 26) == (
        "No session matches the search and filters (26 sessions in all)."
    )
    assert fmt.filtered_empty_text("all", {}, True, 1) == (
        "No session matches the search and filters (1 session in all)."
    )


def test_brief_from_markdown_takes_the_fenced_block() -> None:
    markdown = "\n".join([
        "# Session report: x", "", "## Continuation brief", "",
        "Paste the block below as the first prompt of a fresh session.", "",
        "````markdown", "Goal: fix the login", "```py", "x = 1", "```", "````", "",
        "## Conversation", "hello",
    ])
    assert fmt.brief_from_markdown(markdown) == "Goal: fix the login\n```py\nx = 1\n```"
    assert fmt.brief_from_markdown("# no brief here") is None
    assert fmt.brief_from_markdown(None) is None


def test_usage_series_marks_the_compaction() -> None:
    key = COMPACTED
    at = [NOW + timedelta(minutes=i) for i in range(4)]
    samples = [
        UsageSample(key, at[2], 30_000, 591, 200_000),  # after /compact: the prompt shrank
        UsageSample(key, at[0], 9_000, 9_000, 200_000),
        UsageSample(key, at[1], 19_000, 9_841, 200_000),
        UsageSample(key, at[3], 38_818, None, None),
    ]
    series = usage_series(samples)
    assert [p.total_tokens for p in series.points] == [9_000, 19_000, 30_000, 38_818]
    assert [p.compaction for p in series.points] == [False, False, True, False]
    assert series.points[1].fill == pytest.approx(9_841 / 200_000)
    assert series.points[3].fill is None
    assert series.max_tokens == 38_818
    assert series.end - series.start == 180
    assert usage_series([]).points == ()


@pytest.mark.parametrize(
    ("version", "shown"),
    [("2.1.197", "2.1"), ("0.33.2025111102", "0.33"), ("1.0", "1.0"), ("7", "7"), ("", None),
     (None, None)],
)
def test_short_version_keeps_the_release_line(version: str | None, shown: str | None) -> None:
    assert fmt.short_version(version) == shown


def test_agent_with_version_names_the_agent_alone_when_unknown() -> None:
    assert fmt.agent_with_version("claude-code", "2.1.197") == "Claude Code 2.1"
    assert fmt.agent_with_version("copilot-cli", None) == "Copilot CLI"
    assert fmt.agent_with_version("some-agent", "3.0.1") == "some-agent 3.0"
