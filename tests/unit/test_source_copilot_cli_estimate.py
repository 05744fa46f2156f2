"""Copilot CLI logs that carry no per-call usage records, and the older `history-session-state/`.

No real log of such a version exists here, so the lines are hand-written in the shapes formats.md
§4.2 documents for older Copilot CLI versions (from agentsview `copilot.go` and splitrail
`copilot_cli.rs`): `session.start` with `data.context.{cwd, branch, model}`, `user.message`
(`content`, `messageId`), `assistant.message` (`messageId`, `content`, `reasoningText`,
`toolRequests[{toolCallId, name, arguments}]`, and `outputTokens`), and `session.shutdown` with
cumulative `modelMetrics.<model>.usage.{inputTokens (cache included), outputTokens,
cacheReadTokens, cacheWriteTokens}` and `currentTokens`. The envelope (`type`, `data`, `id`,
`timestamp`, `parentId`) is the one Copilot CLI 1.0.102 writes (tests/data/real-clients).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_source_copilot_cli import build_all

from llm_session_manager.core.models import SessionFacts, Usage
from llm_session_manager.core.sources import copilot_estimate, listing
from llm_session_manager.core.sources.copilot_cli import CopilotCliSource
from llm_session_manager.core.sources.copilot_events import EventsAccumulator
from llm_session_manager.core.tokens import count_tokens

DATA = Path(__file__).resolve().parents[1] / "data"
COPILOT_HOME = DATA / "real-clients" / "home" / ".copilot"
BASH = "044396fc-8599-4a47-83af-1dc41d9b3542"  # real 1.0.102 log: usage record per API call
TOOL_TURN = Usage(input=7 + 13, output=37, cache_creation=1380, cache_read=9300)
SID = "5f0c9a52-0d0e-4a57-9d1e-3b6c2f1d7a01"
GPT, SONNET = "gpt-5", "claude-sonnet-4.5"
PROMPT_1, PROMPT_2 = "Explain the build script", "Now add a test for it"
REPLY_1 = "The script compiles the sources, then packs them."


def event(kind: str, data: dict[str, Any], second: int) -> bytes:
    return orjson.dumps({"type": kind, "data": data, "id": f"ev-{kind}-{second}",
                         "timestamp": f"2026-03-01T10:00:{second:02d}.000Z", "parentId": None})


def start(second: int = 0, model: str = GPT) -> bytes:
    context = {"cwd": "/home/dev/src/app", "branch": "main", "model": model}
    return event("session.start", {"sessionId": SID, "context": context}, second)


def prompt(message_id: str, text: str, second: int) -> bytes:
    return event("user.message", {"messageId": message_id, "content": text, "source": "user"},
                 second)


def reply(message_id: str, second: int, **fields: Any) -> bytes:
    return event("assistant.message", {"messageId": message_id, "interactionId": "i1", **fields},
                 second)


def shutdown(second: int, metrics: dict[str, Any], current: int = 5000) -> bytes:
    return event("session.shutdown", {"modelMetrics": metrics, "currentModel": GPT,
                                      "currentTokens": current}, second)


def metrics(model: str, inp: int, out: int, read: int = 0, write: int = 0) -> dict[str, Any]:
    usage = {"inputTokens": inp, "outputTokens": out, "cacheReadTokens": read,
             "cacheWriteTokens": write, "reasoningTokens": 0}
    return {model: {"requests": {"count": 1, "cost": 1}, "usage": usage}}


def write_log(home: Path, lines: list[bytes], state_dir: str = "session-state") -> Path:
    path = home / state_dir / SID / "events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def facts_of(home: Path, counter: Callable[[str], int] | None = count_tokens) -> SessionFacts:
    return build_all(CopilotCliSource([home], count_tokens=counter))[SID]


# -- no usage records, no shutdown: the session's tokens are estimated -------------------------


def test_without_records_or_shutdown_output_is_summed_and_prompts_are_counted(
    tmp_path: Path,
) -> None:
    write_log(tmp_path, [
        start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, content=REPLY_1, outputTokens=42),
        prompt("u2", PROMPT_2, 3), reply("a2", 4, content="Added.", outputTokens=8),
    ])
    facts = facts_of(tmp_path)
    expected = Usage(input=count_tokens(PROMPT_1) + count_tokens(PROMPT_2), output=50,
                     source="counted")
    assert facts.usage == expected  # the recorded outputTokens, not the reply's text counted
    assert [(m.model, m.usage) for m in facts.by_model] == [(GPT, expected)]
    assert facts.model == GPT  # named only in session.start's context
    assert facts.context.tokens is None  # nothing says how full the window is


def test_a_reply_without_output_tokens_has_its_text_counted(tmp_path: Path) -> None:
    tool = {"toolCallId": "t1", "name": "bash", "arguments": {"command": "make test"}}
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1),
                         reply("a1", 2, content=REPLY_1, reasoningText="Read it first.",
                               toolRequests=[tool])])
    facts = facts_of(tmp_path)
    text = f'{REPLY_1}\nRead it first.\nbash {{"command":"make test"}}'
    assert facts.usage == Usage(input=count_tokens(PROMPT_1), output=count_tokens(text),
                                source="counted")


def test_without_a_tokenizer_the_figures_are_still_labelled_counted(tmp_path: Path) -> None:
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, outputTokens=42)])
    assert facts_of(tmp_path, None).usage == Usage(output=42, source="counted")
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1)])  # the reply is not written yet
    assert facts_of(tmp_path, None).usage == Usage(source="counted")  # zero, but not "exact"


# -- shutdown totals, then a resume: each turn counted once -----------------------------------


def test_turns_after_the_latest_shutdown_are_added_to_its_totals_once(tmp_path: Path) -> None:
    write_log(tmp_path, [
        start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, content=REPLY_1, outputTokens=40),
        shutdown(3, metrics(GPT, 1500, 40, read=1000, write=200)),
        # resumed on another model; the first reply is written again and must not count twice
        event("session.resume", {"selectedModel": SONNET}, 4),
        reply("a1", 5, content=REPLY_1, outputTokens=40),
        prompt("u2", PROMPT_2, 6), reply("a2", 7, content="Added.", outputTokens=9),
    ])
    facts = facts_of(tmp_path)
    exact = Usage(input=300, output=40, cache_creation=200, cache_read=1000)
    tail = Usage(input=count_tokens(PROMPT_2), output=9, source="counted")
    assert [(m.model, m.usage) for m in facts.by_model] == [(GPT, exact), (SONNET, tail)]
    assert facts.usage == exact + tail
    assert facts.usage.source == "counted"
    assert facts.context.tokens == 5000  # the latest shutdown's currentTokens


def test_a_shutdown_after_the_last_turn_makes_the_totals_exact_again(tmp_path: Path) -> None:
    lines = [start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, outputTokens=40),
             shutdown(3, metrics(GPT, 1500, 40)), prompt("u2", PROMPT_2, 4),
             reply("a2", 5, outputTokens=9)]
    write_log(tmp_path, lines)
    assert facts_of(tmp_path).usage.source == "counted"
    # Cumulative totals (formats.md §4.2): the second shutdown replaces the first.
    write_log(tmp_path, [*lines, shutdown(6, metrics(GPT, 3100, 49))])
    assert facts_of(tmp_path).usage == Usage(input=3100, output=49)


def test_an_empty_shutdown_total_means_nothing_was_billed(tmp_path: Path) -> None:
    # Copilot CLI 1.0.102 writes `modelMetrics: {}` after requests the API rejected
    # (tests/data/real-clients, session 8bc4f7a1).
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1), shutdown(2, {})])
    assert facts_of(tmp_path).usage == Usage()


# -- per-call records (1.0.102) stay exact and never load the tokenizer ------------------------


def test_logs_with_usage_records_are_exact_and_count_no_text(tmp_path: Path) -> None:
    counted: list[str] = []

    def counter(text: str) -> int:
        counted.append(text)
        return 1

    shutil.copytree(COPILOT_HOME, tmp_path / ".copilot")
    facts = build_all(CopilotCliSource([tmp_path / ".copilot"], count_tokens=counter))
    assert facts[BASH].usage == TOOL_TURN
    assert all(f.usage.source == "exact" for f in facts.values())
    assert counted == []


def test_the_first_usage_record_drops_the_estimate(tmp_path: Path) -> None:
    record = {"model": GPT, "inputTokens": 900, "outputTokens": 12, "cacheReadTokens": 0,
              "cacheWriteTokens": 0, "apiCallId": "call-1"}
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1),
                         event("session.usage_record", {"usage": record}, 2),
                         reply("a1", 3, content=REPLY_1)])
    facts = facts_of(tmp_path)
    assert facts.usage == Usage(input=900, output=12)
    assert facts.usage.source == "exact"


# -- state ------------------------------------------------------------------------------------


def test_dump_restore_mid_file_equals_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copilot_estimate, "PENDING_CHARS", 30)  # flush while reading too
    lines = [start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, content=REPLY_1),
             shutdown(3, metrics(GPT, 1500, 40)), prompt("u2", PROMPT_2, 4),
             reply("a2", 5, content="Added a test.")]
    whole = EventsAccumulator(count_tokens)
    for line in lines:
        whole.feed(line)
    for cut in range(len(lines) + 1):
        first = EventsAccumulator(count_tokens)
        for line in lines[:cut]:
            first.feed(line)
        second = EventsAccumulator.restore(orjson.loads(orjson.dumps(first.dump())), count_tokens)
        for line in lines[cut:]:
            second.feed(line)
        assert second.dump() == whole.dump()
    assert whole.estimate.pending == []  # counted while read: the text is not kept
    assert whole.estimate.by_model == {GPT: [count_tokens(PROMPT_2), count_tokens("Added a test.")]}


def test_a_state_of_the_previous_version_is_refused() -> None:
    state = EventsAccumulator().dump()
    with pytest.raises(ValueError):
        EventsAccumulator.restore({**state, "version": 1})
    with pytest.raises(ValueError):
        EventsAccumulator.restore({**state, "estimate": []})


# -- history-session-state/ -------------------------------------------------------------------


def test_history_session_state_is_discovered_in_both_layouts(tmp_path: Path) -> None:
    flat = tmp_path / "history-session-state" / "old-flat.jsonl"
    flat.parent.mkdir(parents=True)
    shutil.copy(COPILOT_HOME / "session-state" / BASH / "events.jsonl", flat)
    write_log(tmp_path, [start(), prompt("u1", PROMPT_1, 1), reply("a1", 2, outputTokens=7)],
              "history-session-state")
    source = CopilotCliSource([tmp_path])
    assert source.roots() == [tmp_path / "session-state", tmp_path / "history-session-state"]
    facts = build_all(source)
    assert set(facts) == {"old-flat", SID}
    assert facts["old-flat"].usage == TOOL_TURN
    assert facts[SID].usage == Usage(output=7, source="counted")
    assert facts[SID].cwd == "/home/dev/src/app"


def test_a_warm_discovery_lists_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_log(tmp_path, [start()], "history-session-state")
    write_log(tmp_path, [start()])
    old = time.time_ns() - 3600 * 10**9
    for folder, _, _ in os.walk(tmp_path):
        os.utime(folder, ns=(old, old))
    monkeypatch.setattr(listing, "_now_ns", lambda: time.time_ns() + 3600 * 10**9)
    source = CopilotCliSource([tmp_path])
    assert len(source.discover()) == 2
    listed: list[object] = []
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        listed.append(path)
        return real_scandir(path)

    monkeypatch.setattr(listing.os, "scandir", scandir)
    assert len(source.discover()) == 2
    assert listed == []  # one stat per folder, no listing
