"""The details header names the agent with its release line, the full version on hover."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import orjson

from llm_session_manager.core.models import Session, SessionFacts, SessionKey
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.tail import Cursor, FileStat, read_appended
from llm_session_manager.ui.details_panel import DetailsPanel

CLAUDE_DIR = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "home" / ".claude"
SESSION = "81c214e6-cd39-403f-b856-ac5ce6a0f407"


def real_facts() -> tuple[SessionFacts, str]:
    """The session's facts as the source builds them, and the CLI version its transcript names."""
    source = ClaudeCodeSource([CLAUDE_DIR])
    files = []
    for tracked in source.discover():
        if tracked.session_id == SESSION:
            acc = source.new_accumulator(tracked)
            read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
            files.append((tracked, acc))
    path = next(CLAUDE_DIR.glob(f"projects/*/{SESSION}.jsonl"))
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    version = [r["version"] for r in lines if "version" in r][-1]
    return source.build(SessionKey("claude-code", SESSION), files), version


def panel_for(qtbot, facts: SessionFacts) -> DetailsPanel:  # type: ignore[no-untyped-def]
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.set_session(Session(facts, project="myapp"))
    return panel


def test_header_shows_major_minor_and_the_full_version_in_a_tooltip(qtbot) -> None:
    facts, version = real_facts()
    release = re.match(r"\d+\.\d+", version)
    assert release is not None and release.group() != version
    panel = panel_for(qtbot, facts)
    text = panel.header.text()
    assert f"— Claude Code {release.group()} · {facts.model} · branch {facts.git_branch}" in text
    assert version not in text
    assert panel.header.toolTip() == f"Claude Code {version}"


def test_header_without_a_version_names_the_agent_only(qtbot) -> None:
    facts, _ = real_facts()
    panel = panel_for(qtbot, replace(facts, agent_version=None))
    assert f"— Claude Code · {facts.model} ·" in panel.header.text()
    assert panel.header.toolTip() == ""


def test_switching_sessions_drops_the_previous_tooltip(qtbot) -> None:
    facts, _ = real_facts()
    panel = panel_for(qtbot, facts)
    other = SessionFacts(SessionKey("codex", "t1"), model="gpt-5.5", agent_version="0.169.0")
    panel.set_session(Session(other))
    assert "— Codex 0.169 · gpt-5.5" in panel.header.text()
    assert panel.header.toolTip() == "Codex 0.169.0"
    panel.set_session(Session(SessionFacts(SessionKey("gemini", "g1"))))
    assert panel.header.toolTip() == ""
