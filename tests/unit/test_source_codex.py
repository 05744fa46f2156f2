"""The Codex source, driven as the poller drives it, on the rollouts Codex CLI 0.169.0 wrote.

Totals are checked against two independent readers of the same files: ccusage 20.0.24
(`oracle/ccusage-20.0.24-codex-session.json`) and Codex's own thread index
(`live/codex-state_5-threads.txt`, column `tokens_used`). Here hand-written input is used only for
layouts and lines the samples lack (an archived copy, bad lines); the rest of the hand-written
cases are in `test_source_codex_edges.py`.
"""

from __future__ import annotations

import ast
import shutil
import sys
import types
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.core.models import SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.codex import CodexSource, default_codex_homes
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

DATA = Path(__file__).resolve().parents[1] / "data"
CODEX_HOME = DATA / "real-clients" / "home" / ".codex"
ORACLE = DATA / "real-clients" / "oracle" / "ccusage-20.0.24-codex-session.json"
THREADS = DATA / "real-clients" / "live" / "codex-state_5-threads.txt"

PLAIN = "01a20fd1-024c-73e0-b4ba-4c143c841788"  # exec "Say hello"
SHELL = "01a20fd1-0390-7ca1-80ab-4c681d24ecb5"  # exec, one `ls` that succeeds
FAILING = "01a20fd1-0524-7aa0-bb11-fe5f97df676a"  # exec, `ls /nonexistent-dir` exits 2
RESUMED = "01a20fd1-07f6-7b43-b4e1-739ccdd52e13"  # API error, then `codex exec resume --last`
INTERACTIVE = "01a20fd1-4b89-7f80-8a4c-8dc40102662d"  # the TUI


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _feed(source: CodexSource, tracked: TrackedFile) -> RolloutAccumulator:
    acc = source.new_accumulator(tracked)
    result = read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
    assert result.bad_line_count == 0, result.bad_lines
    assert isinstance(acc, RolloutAccumulator)
    return acc


def _build_all(homes: list[Path]) -> dict[str, tuple[SessionFacts, RolloutAccumulator]]:
    source = CodexSource(homes)
    built = {}
    for tracked in source.discover():
        acc = _feed(source, tracked)
        facts = source.build(SessionKey("codex", tracked.session_id), [(tracked, acc)])
        built[tracked.session_id] = (facts, acc)
    return built


@pytest.fixture(scope="module")
def real() -> dict[str, tuple[SessionFacts, RolloutAccumulator]]:
    return _build_all([CODEX_HOME])


# ---- where the files are --------------------------------------------------------------------


def test_default_homes_honour_codex_home(tmp_path: Path) -> None:
    assert default_codex_homes({}, tmp_path) == [tmp_path / ".codex"]
    assert default_codex_homes({"CODEX_HOME": "/a"}, tmp_path) == [Path("/a")]
    assert default_codex_homes({"CODEX_HOME": "/a, /b,"}, tmp_path) == [Path("/a"), Path("/b")]


def test_discover_lists_every_real_rollout_with_its_thread_id() -> None:
    source = CodexSource([CODEX_HOME])
    tracked = source.discover()
    oracle = orjson.loads(ORACLE.read_bytes())["sessions"]
    assert {t.session_id for t in tracked} == {s["sessionFile"][-36:] for s in oracle}
    assert all(t.role == "main" and Path(t.path).is_file() for t in tracked)
    assert list(source.roots()) == [CODEX_HOME / "sessions", CODEX_HOME / "archived_sessions"]


def test_missing_home_finds_nothing(tmp_path: Path) -> None:
    assert CodexSource([tmp_path / "absent"]).discover() == []


def test_archived_copy_with_the_same_name_loses_to_sessions(tmp_path: Path) -> None:
    home = tmp_path / ".codex"
    day = home / "sessions" / "2026" / "01" / "02"
    archived = home / "archived_sessions"
    day.mkdir(parents=True)
    archived.mkdir()
    both = "rollout-2026-01-02T03-04-05-11111111-1111-4111-8111-111111111111.jsonl"
    only_archived = "rollout-2025-12-30T09-00-00-22222222-2222-4222-8222-222222222222.jsonl"
    for path in (day / both, archived / both, archived / only_archived):
        path.write_bytes(b"")
    (day / "notes.txt").write_bytes(b"")  # not a rollout
    (day / "rollout-no-uuid.jsonl").write_bytes(b"")

    tracked = CodexSource([home]).discover()

    assert tracked == [
        TrackedFile(str(day / both), "11111111-1111-4111-8111-111111111111", "main"),
        TrackedFile(str(archived / only_archived), "22222222-2222-4222-8222-222222222222",
                    "archived"),
    ]


# ---- tokens against the oracles -------------------------------------------------------------


def test_usage_matches_ccusage_for_every_session(real: dict[str, Any]) -> None:
    # ccusage 20.0.24 reports Codex sessions in the same split as ours: `inputTokens` is the
    # *uncached* input (Codex's input_tokens - cached_input_tokens; e.g. 7456 - 3712 = 3744 for
    # "Say hello"), `cacheReadTokens` the cached part, `outputTokens` includes reasoning, and
    # `totalTokens` = inputTokens + cacheReadTokens + outputTokens, which is Codex's own
    # total_tokens and our Usage.total (reasoning is not added again, cache_creation is 0).
    oracle = orjson.loads(ORACLE.read_bytes())["sessions"]
    assert len(oracle) == len(real) == 7
    for expected in oracle:
        facts, _ = real[expected["sessionFile"][-36:]]
        usage = facts.usage
        assert usage.source == "exact"
        assert usage.input == expected["inputTokens"]
        assert usage.cache_read == expected["cacheReadTokens"]
        assert usage.input + usage.cache_read == expected["inputTokens"] + expected[
            "cacheReadTokens"
        ]  # = Codex's input_tokens, which includes the cached part
        assert usage.output == expected["outputTokens"]
        assert usage.reasoning == expected["reasoningOutputTokens"]
        assert usage.cache_creation == expected["cacheCreationTokens"] == 0
        assert usage.total == expected["totalTokens"]
        assert {m.model: m.usage.total for m in facts.by_model} == {
            name: m["totalTokens"] for name, m in expected["models"].items()
        }


def test_usage_matches_codex_own_thread_index(real: dict[str, Any]) -> None:
    # state_5.sqlite's `tokens_used` is Codex's cumulative total_tokens of the thread.
    rows = [ast.literal_eval(line) for line in THREADS.read_text().splitlines() if line.strip()]
    checked = 0
    for row in rows:
        thread_id, tokens_used = row[0], row[6]
        if thread_id in real:
            assert real[thread_id][0].usage.total == tokens_used
            checked += 1
    assert checked == 7


def test_resumed_session_counts_each_call_once(real: dict[str, Any]) -> None:
    facts, _ = real[RESUMED]
    # First turn: the API rejected the request (no tokens); `exec resume --last` appended a
    # second turn with one call of 7503 input / 25 output to the same file.
    assert facts.usage.total == 7528
    assert facts.usage.input + facts.usage.cache_read == 7503
    assert facts.prompts == 2 and facts.replies == 1
    assert facts.first_prompt == "[[apierror]] rejected request"
    assert facts.errors.api == 1 and facts.errors.tool == 0
    assert facts.errors.recent == (_utc("2026-11-24T23:08:07.117Z"),)
    assert facts.errors.last_message == "mock: deliberately rejected ([[apierror]])"
    assert facts.turn_hint == "turn_done"


# ---- what else the real records say ---------------------------------------------------------


def test_failing_command_is_one_tool_error(real: dict[str, Any]) -> None:
    facts, _ = real[FAILING]
    assert facts.errors.tool == 1 and facts.errors.api == 0
    assert facts.errors.recent == (_utc("2026-11-24T23:08:06.482Z"),)
    assert facts.errors.last_message == "command failed (exit 2): ls /nonexistent-dir"
    for session_id in (PLAIN, SHELL, INTERACTIVE):  # commands that exit 0 are not errors
        assert real[session_id][0].errors.total == 0


def test_model_cwd_branch_and_context_from_the_records(real: dict[str, Any]) -> None:
    for facts, _ in real.values():
        assert facts.model == "gpt-5.1-codex"
        assert facts.cwd == "/home/dev/src/cxapp"
        assert facts.git_branch == "main"
        assert facts.context.window == 258400 and facts.context.window_source == "record"
        assert facts.context.compactions == 0
        assert facts.paths and facts.paths[0].endswith(f"{facts.key.session_id}.jsonl")
    shell = real[SHELL][0]
    # The prompt of the latest call (last_token_usage.total_tokens), not the session total.
    assert shell.context.tokens == 7592
    assert shell.usage.total == 15078
    assert shell.prompts == 1 and shell.replies == 1
    assert shell.title == shell.first_prompt == "[[tool:shell]] list the files"


def test_exec_and_interactive_sessions_are_told_apart(real: dict[str, Any]) -> None:
    kinds = {sid: (acc.source_kind, acc.originator) for sid, (_, acc) in real.items()}
    assert kinds.pop(INTERACTIVE) == ("vscode", "codex-tui")
    assert set(kinds.values()) == {("exec", "codex_exec")}

    tui = real[INTERACTIVE][0]
    # The thread was created when the TUI opened; its first line was written at the first prompt.
    assert tui.started_at == _utc("2026-11-24T23:08:24.371Z")
    assert tui.last_activity_at == _utc("2026-11-24T23:08:33.712Z")
    assert tui.first_prompt == "[[tool:shell]] interactive list"
    assert tui.context.tokens == 8847


def test_appended_polls_give_the_same_facts(sample_home: Path) -> None:
    path = next((sample_home / ".codex" / "sessions").rglob(f"*{SHELL}.jsonl"))
    whole = path.read_bytes()
    cut = whole.index(b"\n", len(whole) // 2) + 30  # a poll that sees half a line
    path.write_bytes(whole[:cut])
    source = CodexSource([sample_home / ".codex"])
    tracked = next(t for t in source.discover() if t.session_id == SHELL)
    acc = source.new_accumulator(tracked)
    first = read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
    with path.open("ab") as handle:
        handle.write(whole[cut:])
    second = read_appended(tracked.path, first.cursor, FileStat.of(tracked.path), acc.feed)
    assert first.bad_line_count == second.bad_line_count == 0

    key = SessionKey("codex", SHELL)
    reference = _build_all([CODEX_HOME])[SHELL][0]
    assert source.build(key, [(tracked, acc)]) == replace(reference, paths=(tracked.path,))


# ---- state round trip and bad input ---------------------------------------------------------


def test_dump_restore_round_trip_mid_file() -> None:
    path = next(CODEX_HOME.rglob(f"*{FAILING}.jsonl"))
    lines = path.read_bytes().splitlines()
    half = len(lines) // 2
    acc = RolloutAccumulator()
    for line in lines[:half]:
        acc.feed(line)
    state = acc.dump()
    restored = RolloutAccumulator.restore(orjson.loads(orjson.dumps(state)))
    assert restored.dump() == state
    for line in lines[half:]:
        acc.feed(line)
        restored.feed(line)
    assert restored.dump() == acc.dump()
    tracked = TrackedFile(str(path), FAILING)
    key = SessionKey("codex", FAILING)
    source = CodexSource([CODEX_HOME])
    assert source.build(key, [(tracked, restored)]) == source.build(key, [(tracked, acc)])
    assert state != acc.dump()  # the dump was a copy, not a view of live state


def test_restore_rejects_foreign_state() -> None:
    state = RolloutAccumulator().dump()
    with pytest.raises(ValueError):
        RolloutAccumulator.restore({**state, "version": 999})
    with pytest.raises(KeyError):
        RolloutAccumulator.restore({**state, "bogus": 1})
    with pytest.raises(ValueError):
        RolloutAccumulator.restore({**state, "tokens": {**state["tokens"], "base": [1, 2]}})


@pytest.mark.parametrize(
    "line",
    [
        b'{"timestamp":"2026-01-01T10:00:00Z","type":"event_msg","payload":{"type":"token_c',
        b'{"timestamp":"2026-01-01T10:00:00Z","type":"response_item","payload":{"type":"mess',
        b"\xff\xfe{}",
        b"[1, 2]",
        b"not json",
    ],
)
def test_bad_line_raises_value_error(line: bytes) -> None:
    with pytest.raises(ValueError):
        RolloutAccumulator().feed(line)


def test_live_is_delegated_to_core_live(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("llm_session_manager.core.live")

    def codex_live(*args: Any) -> dict[str, Any]:
        calls.append(args)
        return {}

    fake.codex_live = codex_live  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llm_session_manager.core.live", fake)
    table = ProcessTable()
    assert CodexSource([CODEX_HOME]).live(table, {}) == {}
    assert calls == [([CODEX_HOME], table, {})]


def test_sources_never_write_to_agent_files(tmp_path: Path) -> None:
    home = tmp_path / ".codex"
    shutil.copytree(CODEX_HOME, home)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in home.rglob("*") if p.is_file()}
    _build_all([home])
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in home.rglob("*") if p.is_file()}
    assert after == before
