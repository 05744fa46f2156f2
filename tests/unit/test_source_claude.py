"""The Claude Code source on the transcripts the real CLI wrote, checked against ccusage 20.0.24.

Files are read the way the poller reads them (discover, then `core.tail.read_appended` from a
fresh cursor into each file's accumulator, then `build` per session). The edge cases the real
sample lacks are in test_source_claude_edges.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import FileAccumulator, Source, TrackedFile
from llm_session_manager.core.sources.claude_code import ClaudeCodeSource, default_config_dirs
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

DATA = Path(__file__).resolve().parents[1] / "data" / "real-clients"
PUBLIC = Path(__file__).resolve().parents[1] / "data" / "public" / "claude-code"
CONFIG_DIR = DATA / "home" / ".claude"
PROJECTS = CONFIG_DIR / "projects"
ORACLE = json.loads((DATA / "oracle" / "ccusage-20.0.24-claude-session.json").read_text())
ORACLE_SESSIONS = {row["period"]: row for row in ORACLE["session"]}

COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"  # --resume turn, then /compact, then a turn
TOOL_ERROR = "0b9297ac-171e-4230-83a5-785e076a5fe9"  # Read of a missing file
API_ERROR = "67be10ac-6ba8-400a-83bd-0308eb215532"  # the mock rejected the request (400)
INTERACTIVE = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"  # TUI: ai-title, turn_duration
WITH_SUBAGENT = "c065c4b0-94cd-4361-87a1-940b36729be3"  # Agent tool call + --continue turn
ODD_PATH = "24237997-fab8-43e0-93cd-29f8ded17d6b"  # cwd "/home/dev/src/my.app_v2 space"


def feed_file(acc: FileAccumulator, path: str) -> None:
    """Read a whole file as the poller does on first sight: fresh cursor, complete lines."""
    result = read_appended(path, Cursor(), FileStat.of(path), acc.feed)
    assert result.bad_line_count == 0, result.bad_lines


def read_all(source: ClaudeCodeSource) -> dict[str, list[tuple[TrackedFile, FileAccumulator]]]:
    sessions: dict[str, list[tuple[TrackedFile, FileAccumulator]]] = defaultdict(list)
    for tracked in source.discover():
        acc = source.new_accumulator(tracked)
        feed_file(acc, tracked.path)
        sessions[tracked.session_id].append((tracked, acc))
    return sessions


def build_all(source: ClaudeCodeSource) -> dict[str, SessionFacts]:
    return {
        sid: source.build(SessionKey("claude-code", sid), files)
        for sid, files in read_all(source).items()
    }


@pytest.fixture(scope="module")
def facts() -> dict[str, SessionFacts]:
    return build_all(ClaudeCodeSource([CONFIG_DIR]))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- where the files are -----------------------------------------------------------------


def test_default_dirs_are_home_and_xdg(tmp_path: Path) -> None:
    assert default_config_dirs({}, tmp_path) == [tmp_path / ".claude", tmp_path / ".config/claude"]
    assert default_config_dirs({"XDG_CONFIG_HOME": "/x/cfg"}, tmp_path) == [
        tmp_path / ".claude",
        Path("/x/cfg/claude"),
    ]
    # A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
    assert default_config_dirs({"XDG_CONFIG_HOME": "rel"}, tmp_path)[1] == (
        tmp_path / ".config/claude"
    )


def test_claude_config_dir_replaces_defaults_and_accepts_projects_dirs(tmp_path: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": "/a/claude, /b/other/projects,,~/c,/a/claude"}
    assert default_config_dirs(env, tmp_path) == [
        Path("/a/claude"),
        Path("/b/other"),
        tmp_path / "c",
    ]


def test_discover_lists_main_and_subagent_transcripts() -> None:
    tracked = ClaudeCodeSource([CONFIG_DIR]).discover()
    mains = {t.session_id for t in tracked if t.role == "main"}
    subagents = [t for t in tracked if t.role == "subagent"]
    assert mains == {p.stem for p in PROJECTS.glob("*/*.jsonl")}
    assert len(mains) == 8
    assert [(t.session_id, Path(t.path).name) for t in subagents] == [
        (WITH_SUBAGENT, "agent-a880016ef36b519e2.jsonl")
    ]
    # Neither history.jsonl nor the subagent's .meta.json is a transcript.
    assert all(t.path.endswith(".jsonl") and "/projects/" in t.path for t in tracked)


def test_missing_dirs_cost_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty" / "projects").mkdir(parents=True)
    (tmp_path / "file").write_text("not a dir")
    source = ClaudeCodeSource([tmp_path / "absent", tmp_path / "empty", tmp_path / "file"])
    assert source.discover() == []
    assert source.roots() == [
        tmp_path / "absent" / "projects",
        tmp_path / "empty" / "projects",
        tmp_path / "file" / "projects",
    ]


def test_source_satisfies_the_protocol() -> None:
    source: Source = ClaudeCodeSource([CONFIG_DIR])
    assert source.agent == "claude-code"


# -- tokens against the independent oracle --------------------------------------------------


@pytest.mark.parametrize("session_id", sorted(ORACLE_SESSIONS))
def test_usage_equals_ccusage(facts: dict[str, SessionFacts], session_id: str) -> None:
    row = ORACLE_SESSIONS[session_id]
    usage = facts[session_id].usage
    assert usage.input == row["inputTokens"]
    assert usage.output == row["outputTokens"]
    assert usage.cache_creation == row["cacheCreationTokens"]
    assert usage.cache_read == row["cacheReadTokens"]
    assert usage.total == row["totalTokens"]
    assert usage.source == "exact"
    by_model = {m.model: m.usage for m in facts[session_id].by_model}
    assert set(by_model) == set(row["modelsUsed"])
    for part in row["modelBreakdowns"]:
        got = by_model[part["modelName"]]
        assert (got.input, got.output, got.cache_creation, got.cache_read) == (
            part["inputTokens"],
            part["outputTokens"],
            part["cacheCreationTokens"],
            part["cacheReadTokens"],
        )


def test_every_session_in_the_oracle_is_found(facts: dict[str, SessionFacts]) -> None:
    assert set(ORACLE_SESSIONS) <= set(facts)
    # ccusage lists no session whose only reply is a zero-usage API error.
    assert set(facts) - set(ORACLE_SESSIONS) == {API_ERROR}
    assert facts[API_ERROR].usage.total == 0


def test_subagent_tokens_count_toward_the_parent(facts: dict[str, SessionFacts]) -> None:
    source = ClaudeCodeSource([CONFIG_DIR])
    files = read_all(source)[WITH_SUBAGENT]
    main_only = source.build(
        SessionKey("claude-code", WITH_SUBAGENT), [f for f in files if f[0].role == "main"]
    )
    whole = facts[WITH_SUBAGENT]
    # The subagent made one request: 10 in, 9 out, 170 written to and 9,200 read from cache.
    assert whole.usage.total - main_only.usage.total == 10 + 9 + 170 + 9200
    assert whole.usage.input == ORACLE_SESSIONS[WITH_SUBAGENT]["inputTokens"] == 58
    assert len(whole.paths) == 2 and whole.paths[1].endswith("agent-a880016ef36b519e2.jsonl")
    # Its prompt and reply are the subagent's, not the user's.
    assert whole.prompts == 2
    assert whole.replies == 3
    assert whole.first_prompt == "[[tool:agent]] delegate to a subagent"
    # Context is the main conversation's latest request (22 + 210 + 9,600), not the subagent's.
    assert whole.context.tokens == 9832


# -- the other facts, as the transcripts show them ------------------------------------------


def test_compaction(facts: dict[str, SessionFacts]) -> None:
    f = facts[COMPACTED]
    assert f.context.compactions == 1
    assert f.context.last_pre_tokens == 9841
    assert f.context.last_post_tokens == 591
    # A turn followed the compaction, so its request (25 + 220 + 9,700) is the context now.
    assert f.context.tokens == 9945
    assert f.context.window is None and f.context.window_source == "unknown"
    # /compact, its caveat, its output, the summary and the meta "Continue" are not prompts.
    assert f.prompts == 3
    # The synthetic "No response requested." is not a reply.
    assert f.replies == 4
    assert f.title == "[[tool:bash]] please list the files"
    assert f.started_at == utc("2026-11-24T23:05:46.814")
    assert f.last_activity_at == utc("2026-11-24T23:05:51.587")
    assert f.turn_hint == "turn_done"


def test_tool_error(facts: dict[str, SessionFacts]) -> None:
    errors = facts[TOOL_ERROR].errors
    assert (errors.tool, errors.api) == (1, 0)
    assert errors.recent == (utc("2026-11-24T23:05:47.510"),)
    assert errors.last_message == (
        "File does not exist. Note: your current working directory is /home/dev/src/myapp."
    )
    assert facts[TOOL_ERROR].context.tokens == 16 + 190 + 9400


def test_api_error(facts: dict[str, SessionFacts]) -> None:
    f = facts[API_ERROR]
    assert (f.errors.tool, f.errors.api) == (0, 1)
    assert (
        f.errors.last_message == "API Error: 400 mock: deliberately rejected request ([[apierror]])"
    )
    assert f.errors.recent == (utc("2026-11-24T23:05:48.053"),)
    assert f.model is None  # "<synthetic>" is no model
    assert f.by_model == ()
    assert f.replies == 0
    assert f.context.tokens is None
    assert f.turn_hint == "turn_done"


def test_no_errors_elsewhere(facts: dict[str, SessionFacts]) -> None:
    with_errors = {sid for sid, f in facts.items() if f.errors.total}
    assert with_errors == {TOOL_ERROR, API_ERROR}


def test_interactive_session(facts: dict[str, SessionFacts]) -> None:
    f = facts[INTERACTIVE]
    assert f.title == "Mock session"
    assert f.first_prompt == "interactive hello"
    assert f.prompts == 2
    assert f.replies == 3
    assert f.turn_hint == "turn_done"  # system/turn_duration closes the turn
    assert f.last_activity_at == utc("2026-11-24T23:06:03.431")


def test_project_with_dot_underscore_and_space(facts: dict[str, SessionFacts]) -> None:
    f = facts[ODD_PATH]
    assert f.cwd == "/home/dev/src/my.app_v2 space"
    assert "-home-dev-src-my-app-v2-space" in f.paths[0]
    assert f.git_branch == "HEAD"
    assert f.title == "hello from odd path"


def test_model_cwd_branch(facts: dict[str, SessionFacts]) -> None:
    for sid, f in facts.items():
        assert f.key == SessionKey("claude-code", sid)
        if sid != ODD_PATH:
            assert f.cwd == "/home/dev/src/myapp"
            assert f.git_branch == "feature/mock-branch"
        if sid != API_ERROR:
            assert f.model == "claude-opus-4-8"
        assert f.started_at is not None and f.started_at.tzinfo is UTC


def test_live_with_no_claude_process_is_empty() -> None:
    assert ClaudeCodeSource([CONFIG_DIR]).live(ProcessTable(), {}) == {}


# -- persistence --------------------------------------------------------------------------


def test_dump_restore_then_continue_equals_one_pass() -> None:
    source = ClaudeCodeSource([CONFIG_DIR])
    for tracked in source.discover():
        lines = Path(tracked.path).read_bytes().splitlines()
        whole = source.new_accumulator(tracked)
        for line in lines:
            whole.feed(line)
        expected = orjson.dumps(whole.dump())
        for split in range(len(lines) + 1):
            first = source.new_accumulator(tracked)
            for line in lines[:split]:
                first.feed(line)
            state = orjson.loads(orjson.dumps(first.dump()))  # as the store would keep it
            resumed = source.restore(tracked, state)
            for line in lines[split:]:
                resumed.feed(line)
            assert orjson.dumps(resumed.dump()) == expected, (tracked.path, split)


def test_restored_accumulators_build_the_same_facts(facts: dict[str, SessionFacts]) -> None:
    source = ClaudeCodeSource([CONFIG_DIR])
    for sid, files in read_all(source).items():
        restored = [(t, source.restore(t, orjson.loads(orjson.dumps(a.dump())))) for t, a in files]
        assert source.build(SessionKey("claude-code", sid), restored) == facts[sid]


def test_restore_rejects_an_unknown_state_version() -> None:
    source = ClaudeCodeSource([])
    with pytest.raises(ValueError):
        source.restore(TrackedFile("/x.jsonl", "x"), {"v": 999})


# -- public fixtures: older and synthetic record shapes -------------------------------------


def build_file(path: Path) -> SessionFacts:
    source = ClaudeCodeSource([])
    tracked = TrackedFile(str(path), path.stem, "main")
    acc = source.new_accumulator(tracked)
    feed_file(acc, tracked.path)
    return source.build(SessionKey("claude-code", path.stem), [(tracked, acc)])


def test_usage_only_lines_without_a_type_are_read_like_ccusage() -> None:
    f = build_file(PUBLIC / "ccusage__project-alpha__session-alpha__chat.jsonl")
    assert (f.usage.input, f.usage.output, f.usage.cache_creation, f.usage.cache_read) == (
        100 + 200 + 300,
        50 + 75 + 125,
        25 + 50 + 0,
        10 + 20 + 40,
    )
    assert [m.model for m in f.by_model] == ["claude-opus-4-20250514", "claude-sonnet-4-20250514"]
    assert f.model == "claude-sonnet-4-20250514"  # the latest reply's
    assert f.replies == 3


def test_compaction_after_a_rewind() -> None:
    f = build_file(PUBLIC / "claude-code-log__dag_compact_after_rewind.jsonl")
    assert (f.context.compactions, f.context.last_pre_tokens, f.context.last_post_tokens) == (
        1,
        150000,
        None,
    )
    assert f.context.tokens == 10  # the reply after the boundary: no cache fields at all
    # Every branch's prompts are in the file; the compact summary is not a prompt.
    assert f.prompts == 5
    assert f.title == "Start"
    assert f.usage.total == 5 * (10 + 5)
