"""The Copilot CLI source, driven as the poller drives it, on the logs Copilot CLI 1.0.102 wrote.

Every token figure is read off the `session.usage_record` lines, and cross-checked with the
cumulative `modelMetrics` Copilot itself wrote at `session.shutdown` (where `inputTokens` is the sum
of uncached input, cache reads and cache writes). Hand-written lines only for what the samples lack.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.models import SessionFacts, SessionKey, Usage
from llm_session_manager.core.sources.base import FileAccumulator, TrackedFile
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource, create
from llm_session_manager.core.sources.copilot_events import EventsAccumulator
from llm_session_manager.core.tail import Cursor, FileStat, read_appended

DATA = Path(__file__).resolve().parents[1] / "data"
COPILOT_HOME = DATA / "real-clients" / "home" / ".copilot"
CPAPP = "/home/dev/src/cpapp"
MODEL = "claude-sonnet-4.5"

HELLO = "8add6b37-665b-4228-add7-03cb5e9cefad"
BASH = "044396fc-8599-4a47-83af-1dc41d9b3542"  # one bash call, two API calls
DENIED = "3d22299d-94e3-4425-82df-62793dd5d687"  # a view the permission system denied
API_ERROR = "8bc4f7a1-10ed-43ed-bff0-a6dd96773791"  # two rejected requests, one after --continue
INTERACTIVE = "80f4e48c-0a72-485c-b74d-493a85bb25aa"

# The two calls of a tool turn: inputTokens 1207 (1200 written to cache), then 9493 (9300 read,
# 180 written); output 30 and 7.
TOOL_TURN = Usage(input=7 + 13, output=37, cache_creation=1380, cache_read=9300)


def feed(source: CopilotCliSource, tracked: TrackedFile) -> FileAccumulator:
    acc = source.new_accumulator(tracked)
    result = read_appended(tracked.path, Cursor(), FileStat.of(tracked.path), acc.feed)
    assert result.bad_line_count == 0, result.bad_lines
    return acc


def build_all(source: CopilotCliSource) -> dict[str, SessionFacts]:
    members: dict[str, list[tuple[TrackedFile, FileAccumulator]]] = {}
    for tracked in source.discover():
        members.setdefault(tracked.session_id, []).append((tracked, feed(source, tracked)))
    return {sid: source.build(SessionKey("copilot-cli", sid), m) for sid, m in members.items()}


@pytest.fixture(scope="module")
def real() -> dict[str, SessionFacts]:
    return build_all(CopilotCliSource([COPILOT_HOME]))


@pytest.fixture
def home_copy(tmp_path: Path) -> Path:
    home = tmp_path / ".copilot"
    shutil.copytree(COPILOT_HOME, home)
    return home


def shutdown_metrics(session_id: str) -> dict[str, Any]:
    path = COPILOT_HOME / "session-state" / session_id / "events.jsonl"
    last = [orjson.loads(x) for x in path.read_bytes().splitlines()
            if b'"session.shutdown"' in x][-1]
    metrics: dict[str, Any] = last["data"]["modelMetrics"]
    return metrics


def test_every_session_is_found_with_cwd_branch_and_model(real: dict[str, SessionFacts]) -> None:
    assert set(real) == {HELLO, BASH, DENIED, API_ERROR, INTERACTIVE}
    for facts in real.values():
        assert (facts.cwd, facts.git_branch, facts.model) == (CPAPP, "topic", MODEL)
        assert facts.usage.source == "exact"
        assert len(facts.paths) == 2  # events.jsonl and workspace.yaml


def test_tokens_split_cache_out_of_input(real: dict[str, SessionFacts]) -> None:
    facts = real[BASH]
    assert facts.usage == TOOL_TURN
    assert [(m.model, m.usage) for m in facts.by_model] == [(MODEL, TOOL_TURN)]
    # Copilot's own cumulative figures agree once the cache is put back into input.
    usage = shutdown_metrics(BASH)[MODEL]["usage"]
    assert facts.usage.input + facts.usage.cache_read + facts.usage.cache_creation == (
        usage["inputTokens"]
    )
    assert (facts.usage.output, facts.usage.cache_read, facts.usage.cache_creation) == (
        usage["outputTokens"], usage["cacheReadTokens"], usage["cacheWriteTokens"]
    )
    assert real[HELLO].usage == Usage(input=7, output=9, cache_creation=1200)


def test_context_is_the_latest_full_prompt_against_copilots_limit(
    real: dict[str, SessionFacts],
) -> None:
    context = real[BASH].context
    assert (context.tokens, context.window, context.window_source) == (9493, 168000, "record")


def test_conversation_counts_title_and_times(real: dict[str, SessionFacts]) -> None:
    facts = real[BASH]
    assert (facts.prompts, facts.replies) == (1, 2)
    assert facts.title == "[[tool:bash]] list files"  # workspace.yaml's name
    assert facts.first_prompt == "[[tool:bash]] list files"
    assert str(facts.started_at) == "2026-11-24 23:11:34.535000+00:00"
    assert str(facts.last_activity_at) == "2026-11-24 23:11:34.798000+00:00"
    assert facts.turn_hint == "turn_done"


def test_tool_and_api_errors(real: dict[str, SessionFacts]) -> None:
    denied = real[DENIED].errors
    assert (denied.tool, denied.api) == (1, 0)
    assert denied.last_message is not None and denied.last_message.startswith("Permission denied")
    failed = real[API_ERROR]
    assert (failed.errors.tool, failed.errors.api) == (0, 2)
    assert failed.errors.last_message == "400 mock: deliberately rejected request ([[apierror]])"
    assert len(failed.errors.recent) == 2
    assert (failed.prompts, failed.replies) == (2, 0)  # one prompt before and one after --continue
    assert failed.usage == Usage()  # nothing was billed
    assert real[BASH].errors.total == 0


def test_dump_restore_mid_file_equals_one_pass() -> None:
    source = CopilotCliSource([COPILOT_HOME])
    tracked = next(t for t in source.discover() if t.session_id == DENIED and t.role == "main")
    lines = Path(tracked.path).read_bytes().splitlines()
    whole = EventsAccumulator()
    for line in lines:
        whole.feed(line)
    for cut in range(len(lines) + 1):
        first = EventsAccumulator()
        for line in lines[:cut]:
            first.feed(line)
        second = source.restore(tracked, orjson.loads(orjson.dumps(first.dump())))
        for line in lines[cut:]:
            second.feed(line)
        assert second.dump() == whole.dump()
    workspace = next(t for t in source.discover() if t.role == "workspace")
    marker = source.new_accumulator(workspace)
    assert source.restore(workspace, marker.dump()).dump() == marker.dump()


@pytest.mark.parametrize("line", [b'{"type":"user.message","data":{', b"[]", b"\xff", b"x"])
def test_bad_lines_raise_value_error(line: bytes) -> None:
    with pytest.raises(ValueError):
        EventsAccumulator().feed(line)


def test_a_cut_system_message_is_still_a_bad_line() -> None:
    with pytest.raises(ValueError):
        EventsAccumulator().feed(b'{"type":"system.message","data":{"content":"You are')


def test_a_repeated_usage_record_counts_once(home_copy: Path) -> None:
    events = home_copy / "session-state" / BASH / "events.jsonl"
    usage_lines = [x for x in events.read_bytes().splitlines() if b"session.usage_record" in x]
    with events.open("ab") as handle:
        handle.write(b"\n".join(usage_lines) + b"\n")
    assert build_all(CopilotCliSource([home_copy]))[BASH].usage == TOOL_TURN


def test_without_usage_records_the_shutdown_totals_are_used(home_copy: Path) -> None:
    events = home_copy / "session-state" / BASH / "events.jsonl"
    kept = [x for x in events.read_bytes().splitlines() if b"session.usage_record" not in x]
    events.write_bytes(b"\n".join(kept) + b"\n")
    facts = build_all(CopilotCliSource([home_copy]))[BASH]
    assert facts.usage == TOOL_TURN
    assert facts.context.tokens == 11670  # the shutdown's currentTokens


def test_workspace_yaml_change_is_read(home_copy: Path) -> None:
    source = CopilotCliSource([home_copy])
    assert build_all(source)[HELLO].title == "Say hello"
    workspace = home_copy / "session-state" / HELLO / "workspace.yaml"
    text = workspace.read_text().replace("name: Say hello", "name: Renamed by the user")
    workspace.write_text(text.replace("branch: topic", "branch: main"))
    facts = build_all(source)[HELLO]
    assert (facts.title, facts.git_branch) == ("Renamed by the user", "main")


def test_pending_permission_and_running_tool_hints() -> None:
    acc = EventsAccumulator()
    acc.feed(b'{"type":"user.message","data":{"content":"go"},"timestamp":"2026-01-01T00:00:00Z"}')
    assert acc.turn_hint == "working"
    acc.feed(b'{"type":"tool.execution_start","data":{"toolCallId":"t1"}}')
    assert acc.turn_hint == "tool_running"
    acc.feed(b'{"type":"permission.requested","data":{"requestId":"r1"}}')
    assert acc.turn_hint == "permission"
    acc.feed(b'{"type":"permission.completed","data":{"requestId":"r1"}}')
    acc.feed(b'{"type":"tool.execution_complete","data":{"toolCallId":"t1","success":true}}')
    acc.feed(b'{"type":"assistant.turn_end","data":{}}')
    assert acc.turn_hint == "turn_done"


def test_flat_older_layout_and_locks_folder_are_handled(tmp_path: Path) -> None:
    state = tmp_path / ".copilot" / "session-state"
    (state / ".session-operation-locks").mkdir(parents=True)
    shutil.copy(COPILOT_HOME / "session-state" / HELLO / "events.jsonl", state / "old-id.jsonl")
    facts = build_all(CopilotCliSource([tmp_path / ".copilot"]))
    assert set(facts) == {"old-id"}
    assert facts["old-id"].usage == Usage(input=7, output=9, cache_creation=1200)


def test_roots_follow_copilot_home(tmp_path: Path) -> None:
    # Each home is read under the current folder name and the older `history-session-state`.
    home = tmp_path / ".copilot"
    assert create(AgentConfig(), {}, tmp_path).roots() == [
        home / "session-state", home / "history-session-state"
    ]
    moved = create(AgentConfig(), {"COPILOT_HOME": "/c", "XDG_STATE_HOME": "/s"}, tmp_path)
    assert moved.roots() == [Path("/c/session-state"), Path("/c/history-session-state")]
    xdg = create(AgentConfig(), {"XDG_STATE_HOME": "/s"}, tmp_path)
    assert xdg.roots() == [
        home / "session-state", home / "history-session-state",
        Path("/s/.copilot/session-state"), Path("/s/.copilot/history-session-state"),
    ]
