"""The window Claude Code records in its state file (`~/.claude.json`) at exit.

The real client wrote `projects[<cwd>].lastSessionId` and `lastModelUsage{"<model>[1m]": …}`;
what it wrote for the sample's interactive session is
tests/data/real-clients/live/claude.json-projects-excerpt.json, put here where the CLI keeps it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent_records import build_files
from llm_session_manager.config import AgentConfig, Config
from llm_session_manager.core import accounting
from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.sources import claude_code, claude_windows
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource
from llm_session_manager.core.sources.claude_windows import RecordedWindows, state_files

DATA = Path(__file__).resolve().parents[1] / "data" / "real-clients"
CONFIG_DIR = DATA / "home" / ".claude"
EXCERPT = DATA / "live" / "claude.json-projects-excerpt.json"
INTERACTIVE = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"  # the TUI session, model claude-opus-4-8


def build_all(source: ClaudeCodeSource) -> dict[str, SessionFacts]:
    return build_files(source, "claude-code")


def excerpt() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXCERPT.read_text())
    return document


def recorded(document: dict[str, Any]) -> dict[str, Any]:
    project: dict[str, Any] = document["projects"]["/home/dev/src/myapp"]
    return project


def write(path: Path, document: dict[str, Any] | str) -> Path:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    # A rewrite gets an mtime of its own even within one timestamp tick, as a rewrite by the CLI
    # a moment later would.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns, before + 1_000_000_000)))
    return path


def facts_with(state: Path) -> dict[str, SessionFacts]:
    return build_all(ClaudeCodeSource([CONFIG_DIR], state_files=[state]))


def test_the_real_record_names_the_interactive_session_and_its_1m_model() -> None:
    # What the test below relies on, read from the record rather than assumed.
    project = recorded(excerpt())
    assert project["lastSessionId"] == INTERACTIVE
    assert list(project["lastModelUsage"]) == ["claude-opus-4-8[1m]"]


def test_the_last_session_gets_the_recorded_window(tmp_path: Path) -> None:
    facts = facts_with(write(tmp_path / ".claude.json", excerpt()))
    session = facts[INTERACTIVE]
    assert f"{session.model}[1m]" in recorded(excerpt())["lastModelUsage"]
    assert (session.context.window, session.context.window_source) == (1_000_000, "record")
    # Every other session is left to the model table.
    others = {f.context.window_source for sid, f in facts.items() if sid != INTERACTIVE}
    assert others == {"unknown"}
    assert all(f.context.window is None for sid, f in facts.items() if sid != INTERACTIVE)


def test_a_recorded_window_beats_the_model_table(tmp_path: Path) -> None:
    session = facts_with(write(tmp_path / ".claude.json", excerpt()))[INTERACTIVE]
    assert session.model is not None
    # A user table that says 200k for this model: the record says the session ran with 1M.
    small = Config(model_windows=((session.model, 200_000),))
    assert small.window_for(session.model) == 200_000
    context = accounting.apply(session, small).context
    assert (context.window, context.window_source) == (1_000_000, "record")
    assert context.fill == pytest.approx(session.context.tokens / 1_000_000)


def test_a_context_window_value_is_taken_as_recorded(tmp_path: Path) -> None:
    document = excerpt()
    project = recorded(document)
    model = next(iter(project["lastModelUsage"])).removesuffix("[1m]")
    project["lastModelUsage"] = {model: {"inputTokens": 55, "contextWindow": 400_000}}
    session = facts_with(write(tmp_path / ".claude.json", document))[INTERACTIVE]
    assert (session.context.window, session.context.window_source) == (400_000, "record")
    # Without the suffix or a contextWindow the record says nothing about the window.
    project["lastModelUsage"] = {model: {"inputTokens": 55}}
    session = facts_with(write(tmp_path / ".claude.json", document))[INTERACTIVE]
    assert (session.context.window, session.context.window_source) == (None, "unknown")


def test_another_model_or_session_gets_nothing(tmp_path: Path) -> None:
    document = excerpt()
    project = recorded(document)
    project["lastModelUsage"] = {"claude-sonnet-4-5[1m]": {"inputTokens": 1}}
    assert facts_with(write(tmp_path / "a.json", document))[INTERACTIVE].context.window is None
    project["lastModelUsage"] = excerpt()["projects"]["/home/dev/src/myapp"]["lastModelUsage"]
    project["lastSessionId"] = "00000000-0000-4000-8000-000000000000"
    assert facts_with(write(tmp_path / "b.json", document))[INTERACTIVE].context.window is None


@pytest.mark.parametrize(
    "content", ["", "{not json", "[]", '{"projects": []}', '{"projects": {"/x": 3}}']
)
def test_a_broken_or_odd_file_means_nothing_recorded(tmp_path: Path, content: str) -> None:
    facts = facts_with(write(tmp_path / ".claude.json", content))
    assert {f.context.window_source for f in facts.values()} == {"unknown"}


def test_a_missing_file_means_nothing_recorded(tmp_path: Path) -> None:
    facts = facts_with(tmp_path / "absent.json")
    assert {f.context.window_source for f in facts.values()} == {"unknown"}


def test_the_file_is_read_again_only_when_its_stat_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    read = claude_windows._read

    def counting(path: str, size: int) -> claude_windows.Windows | None:
        reads.append(path)
        return read(path, size)

    monkeypatch.setattr(claude_windows, "_read", counting)
    state = write(tmp_path / ".claude.json", "{half a wri")  # caught mid-write
    windows = RecordedWindows([state])
    assert windows.window(INTERACTIVE, "claude-opus-4-8") is None
    assert windows.window(INTERACTIVE, "claude-opus-4-8") is None
    assert len(reads) == 1
    write(state, excerpt())
    assert windows.window(INTERACTIVE, "claude-opus-4-8") == 1_000_000
    assert windows.window(INTERACTIVE, "claude-opus-4-8") == 1_000_000
    assert len(reads) == 2
    # The next session run in that folder takes lastSessionId over; the earlier one still ran
    # with 1M, so what was read stays known.
    document = excerpt()
    recorded(document)["lastSessionId"] = "00000000-0000-4000-8000-000000000001"
    write(state, document)
    assert windows.window("00000000-0000-4000-8000-000000000001", "claude-opus-4-8") == 1_000_000
    assert windows.window(INTERACTIVE, "claude-opus-4-8") == 1_000_000
    assert windows.window(INTERACTIVE, None) is None
    assert len(reads) == 3


def test_where_the_state_file_is(tmp_path: Path) -> None:
    dirs = claude_code.default_config_dirs({}, tmp_path)
    assert state_files(dirs, {}, tmp_path) == [
        tmp_path / ".claude.json",  # beside ~/.claude, where the CLI keeps it by default
        tmp_path / ".claude" / ".claude.json",
        tmp_path / ".config" / "claude" / ".claude.json",
    ]
    env = {"CLAUDE_CONFIG_DIR": "/a/claude,/b/claude/projects"}
    dirs = claude_code.default_config_dirs(env, tmp_path)
    assert state_files(dirs, env, tmp_path) == [
        Path("/a/claude/.claude.json"),
        Path("/b/claude/.claude.json"),
    ]


def test_the_registry_source_reads_the_home_state_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(CONFIG_DIR, home / ".claude")
    write(home / ".claude.json", excerpt())
    source = claude_code.create(AgentConfig(), {}, home)
    session = build_all(source)[INTERACTIVE]
    assert (session.context.window, session.context.window_source) == (1_000_000, "record")
    # With CLAUDE_CONFIG_DIR the CLI keeps the file inside that dir instead.
    env = {"CLAUDE_CONFIG_DIR": str(home / ".claude")}
    session = build_all(claude_code.create(AgentConfig(), env, home))[INTERACTIVE]
    assert session.context.window_source == "unknown"
    write(home / ".claude" / ".claude.json", excerpt())
    session = build_all(claude_code.create(AgentConfig(), env, home))[INTERACTIVE]
    assert session.context.window_source == "record"


def test_a_window_recorded_after_the_last_line_reaches_the_ended_session(tmp_path: Path) -> None:
    """The CLI writes the state file at exit, after the transcript's last line: the session is
    built again from its saved state, without its transcript being read again."""
    from llm_session_manager.core.poller import Poller
    from llm_session_manager.core.processes import ProcessTable
    from llm_session_manager.store.repo import Store

    home = tmp_path / "home"
    shutil.copytree(CONFIG_DIR, home / ".claude")
    state = home / ".claude.json"
    key = SessionKey("claude-code", INTERACTIVE)

    def poller() -> Poller:
        store = Store.open(tmp_path / "data" / "store.db")
        # A table that gives this model 200k, as it was before 1M became its native window.
        config = Config(model_windows=(("claude-opus-4-8", 200_000),))
        return Poller([claude_code.create(AgentConfig(), {}, home)], store, config,
                      scan_processes=ProcessTable)  # fmt: skip

    first = poller()
    context = {s.key: s for s in first.poll_once().sessions}[key].facts.context
    assert (context.window, context.window_source) == (200_000, "table")  # nothing recorded yet

    write(state, excerpt())  # the CLI exits
    after = first.poll_once()
    context = {s.key: s for s in after.sessions}[key].facts.context
    assert (context.window, context.window_source) == (1_000_000, "record")
    assert after.bytes_read == 0  # built again from what was kept, no transcript read again
    assert first.last_stats.sessions_rebuilt == 1  # that session only
    first.poll_once()
    assert first.last_stats.sessions_rebuilt == 0  # and once

    # A new process (the next CLI run) finds the figure stored and builds nothing again.
    later = poller()
    snapshot = later.poll_once()
    assert {s.key: s for s in snapshot.sessions}[key].facts.context.window == 1_000_000
    assert later.last_stats.sessions_rebuilt == 0
