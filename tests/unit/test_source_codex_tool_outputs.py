"""Tool errors shown only in a Codex tool call's output text, and one failure told twice.

Where each shape comes from:
- line layout of an older rollout's tool output: the public sample
  `public/codex/claude-code-log__rollout-...jsonl` (`{"timestamp","type":"response_item",
  "payload":{"type":"function_call_output","call_id","output"}}`);
- the `output` strings: Codex's own formatters (openai/codex `codex-rs/core/src/tools/mod.rs`):
  structured `{"output":..,"metadata":{"exit_code":..,"duration_seconds":..}}` (the `shell` tool and
  `apply_patch`, which writes it as a `custom_tool_call_output`), freeform `Exit code: N\\nWall
  time: ..\\nOutput:\\n..` (`shell_command`);
- unified exec (`Process exited with code N`) and the `item_completed` `CommandExecution` item: the
  real Codex 0.169.0 rollouts in `real-clients/home/.codex`, copied and changed field by field;
- `exec_command_end`: formats.md §2.2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.core.models import Errors, SessionKey
from llm_session_manager.core.sources import codex_rollout
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.codex import CodexSource
from llm_session_manager.core.sources.codex_outputs import exit_code, may_show_failure
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator

CODEX_HOME = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "home" / ".codex"
FAILING = "01a20fd1-0524-7aa0-bb11-fe5f97df676a"  # exec, `ls /nonexistent-dir` exits 2
SHELL = "01a20fd1-0390-7ca1-80ab-4c681d24ecb5"  # exec, one `ls` that succeeds
FAILED_AT = "2026-11-24T23:08:06.482Z"  # the failing rollout's item_completed CommandExecution
OUTPUT_AT = "2026-11-24T23:08:06.486Z"  # ... and its function_call_output


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _line(kind: str, payload: dict[str, Any], ts: str = "2026-01-02T03:04:10.000Z") -> bytes:
    return orjson.dumps({"timestamp": ts, "type": kind, "payload": payload})


def _output(call_id: str, output: str, ts: str = "2026-01-02T03:04:10.000Z",
            kind: str = "function_call_output") -> bytes:
    return _line("response_item", {"type": kind, "call_id": call_id, "output": output}, ts)


def _structured(code: int, text: str = "") -> str:
    return orjson.dumps(
        {"output": text, "metadata": {"exit_code": code, "duration_seconds": 0.2}}
    ).decode()


def _freeform(code: int, text: str = "") -> str:
    return f"Exit code: {code}\nWall time: 0.2 seconds\nOutput:\n{text}"


def _exec_end(call_id: str, code: int, ts: str) -> bytes:
    return _line("event_msg", {"type": "exec_command_end", "call_id": call_id,
                               "aggregated_output": "", "exit_code": code}, ts)


def _fed(*lines: bytes, acc: RolloutAccumulator | None = None) -> RolloutAccumulator:
    acc = acc or RolloutAccumulator()
    for line in lines:
        acc.feed(line)
    return acc


def _errors(acc: RolloutAccumulator) -> Errors:
    tracked = TrackedFile("/x/rollout-s.jsonl", "s")
    return CodexSource([]).build(SessionKey("codex", "s"), [(tracked, acc)]).errors


def _real(session_id: str) -> list[bytes]:
    return next(CODEX_HOME.rglob(f"*{session_id}.jsonl")).read_bytes().splitlines()


def _index(lines: list[bytes], marker: bytes) -> int:
    return next(i for i, line in enumerate(lines) if marker in line)


def _with_payload(line: bytes, **fields: Any) -> bytes:
    """A copy of a real line with payload fields changed (key order kept, as Codex writes it)."""
    record = orjson.loads(line)
    record["payload"].update(fields)
    return orjson.dumps(record)


# ---- older rollouts: the output text is the only record -------------------------------------


@pytest.mark.parametrize(
    "output",
    [_structured(1, "boom\n"), _freeform(1, "boom\n"),
     "Chunk ID: a893a7\nWall time: 0.0000 seconds\nProcess exited with code 2\n"
     "Original token count: 16\nOutput:\nls: cannot access '/x': No such file or directory\n"],
    ids=["structured", "freeform", "unified-exec"],
)
def test_failed_call_shown_only_in_its_output_is_a_tool_error(output: str) -> None:
    acc = _fed(_output("call-1", "./alpha.txt\n", "2026-01-02T03:04:08.000Z"),
               _output("call-2", output, "2026-01-02T03:04:10.000Z"))
    errors = _errors(acc)
    assert errors.tool == 1 and errors.api == 0
    assert errors.recent == (_utc("2026-01-02T03:04:10.000Z"),)
    assert errors.last_message == f"command exited with code {exit_code(output)}"


def test_failed_patch_in_a_custom_tool_output_is_a_tool_error() -> None:
    acc = _fed(_output("call-patch", _structured(1, "error: hunk failed\n"),
                       kind="custom_tool_call_output"))
    assert _errors(acc).tool == 1


@pytest.mark.parametrize(
    "output",
    [
        _structured(0, "./alpha.txt\n"),
        _freeform(0, "./alpha.txt\n"),
        "Chunk ID: e41ae6\nWall time: 0.0000 seconds\nProcess exited with code 0\n"
        "Original token count: 3\nOutput:\nnotes.txt\n",
        # a long-running command still going: no exit yet
        "Chunk ID: 1\nWall time: 10.0 seconds\nProcess running with session ID 7\nOutput:\n",
        # the command's own output quoting a failure is not Codex's header
        _freeform(0, "Exit code: 1\nProcess exited with code 3\n"),
        _structured(0, '{"metadata":{"exit_code":1}}'),
        # an MCP or plain tool result that happens to say it: no header Codex wrote
        "Exit code: 1",
        '{"status":"ok"}',
    ],
)
def test_successful_or_unknown_outputs_are_not_errors(output: str) -> None:
    assert _errors(_fed(_output("call-1", output))).total == 0


def test_public_sample_tool_outputs_are_not_errors() -> None:
    public = Path(__file__).resolve().parents[1] / "data" / "public" / "codex"
    for path in public.glob("*.jsonl"):
        assert _errors(_fed(*path.read_bytes().splitlines())).total == 0, path.name


@pytest.mark.parametrize("event_first", [True, False])
def test_output_and_end_event_of_one_call_count_once(event_first: bool) -> None:
    records = [_output("call-9", _structured(1), "2026-01-02T03:04:10.000Z"),
               _exec_end("call-9", 1, "2026-01-02T03:04:10.100Z")]
    acc = _fed(*(reversed(records) if event_first else records))
    assert _errors(acc).tool == 1


def test_a_saved_and_restored_accumulator_still_counts_a_call_once() -> None:
    acc = _fed(_output("call-9", _structured(1), "2026-01-02T03:04:10.000Z"))
    restored = RolloutAccumulator.restore(orjson.loads(orjson.dumps(acc.dump())))
    _fed(_output("call-10", _freeform(2), "2026-01-02T03:04:11.000Z"),
         _exec_end("call-9", 1, "2026-01-02T03:04:12.000Z"), acc=restored)
    errors = _errors(restored)
    assert errors.tool == 2
    assert errors.recent == (_utc("2026-01-02T03:04:10.000Z"), _utc("2026-01-02T03:04:11.000Z"))


# ---- 0.169: the events are the record --------------------------------------------------------


def test_real_failing_rollout_counts_its_command_once_in_either_order() -> None:
    lines = _real(FAILING)
    item = _index(lines, b'"CommandExecution"')
    output = _index(lines, b'"function_call_output"')
    assert item < output  # as 0.169 writes them
    swapped = list(lines)
    swapped[item], swapped[output] = lines[output], lines[item]
    assert _errors(_fed(*lines)).tool == 1
    errors = _errors(_fed(*swapped))
    assert errors.tool == 1
    assert errors.recent == (_utc(OUTPUT_AT),)  # the first record of the failure is the one kept


def test_real_failing_output_alone_is_counted() -> None:
    # The same rollout without its CommandExecution item: only "Process exited with code 2" is left.
    lines = [line for line in _real(FAILING) if b'"CommandExecution"' not in line]
    errors = _errors(_fed(*lines))
    assert errors.tool == 1
    assert errors.recent == (_utc(OUTPUT_AT),)
    assert errors.last_message == "command exited with code 2"


@pytest.mark.parametrize("older_state", [False, True])
def test_restored_between_the_item_and_its_output_still_counts_once(older_state: bool) -> None:
    lines = _real(FAILING)
    cut = _index(lines, b'"CommandExecution"') + 1
    state = orjson.loads(orjson.dumps(_fed(*lines[:cut]).dump()))
    if older_state:  # saved before `tool_events` existed: the call id alone keeps it single
        del state["tool_events"]
    restored = RolloutAccumulator.restore(state)
    errors = _errors(_fed(*lines[cut:], acc=restored))
    assert errors.tool == 1 and errors.recent == (_utc(FAILED_AT),)


def test_state_saved_before_failed_ids_existed_still_loads() -> None:
    state = RolloutAccumulator().dump()
    del state["failed_ids"], state["tool_events"]
    acc = _fed(_output("call-1", _structured(1)), acc=RolloutAccumulator.restore(state))
    assert _errors(acc).tool == 1


def test_long_running_command_exit_in_a_later_output_is_not_counted_again() -> None:
    # Unified exec: a command still running when `exec_command` returns ends in a later
    # `write_stdin` output (its own call id); its CommandExecution item keeps the first call's id.
    lines = _real(FAILING)
    item = lines[_index(lines, b'"CommandExecution"')]
    output = lines[_index(lines, b'"function_call_output"')]
    running = _with_payload(output, output="Chunk ID: 1\nWall time: 10.0 seconds\n"
                            "Process running with session ID 7\nOutput:\n")
    polled = _with_payload(output, call_id="call_mock_write_stdin")  # "exited with code 2"
    earlier = _with_payload(item, id="call_mock_earlier", status="completed", exit_code=0)
    acc = _fed(earlier, running, polled, item)
    assert _errors(acc).tool == 1


# ---- the raw-bytes prefilter -------------------------------------------------------------------


def test_prefilter_passes_every_failure_and_skips_successes() -> None:
    assert may_show_failure(_output("c", _structured(1, "x" * 200_000)))
    assert may_show_failure(_output("c", _structured(-1)))
    assert may_show_failure(_output("c", _freeform(127)))
    real_failure = next(line for line in _real(FAILING) if b'"function_call_output"' in line)
    assert may_show_failure(real_failure)
    real_success = next(line for line in _real(SHELL) if b'"function_call_output"' in line)
    assert not may_show_failure(real_success)
    assert not may_show_failure(_output("c", _structured(0, "x" * 200_000)))
    assert not may_show_failure(_output("c", _freeform(0, "Exit code: 1\n" * 100)))


def test_successful_outputs_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[bytes] = []
    loads = orjson.loads

    def counting_loads(data: bytes | str) -> Any:
        parsed.append(data if isinstance(data, bytes) else data.encode())
        return loads(data)

    monkeypatch.setattr(codex_rollout.orjson, "loads", counting_loads)
    _fed(_output("c1", _structured(0, "ok\n")), _output("c2", _freeform(0, "ok\n")),
         *(line for line in _real(SHELL) if b'"function_call_output"' in line))
    assert parsed == []
