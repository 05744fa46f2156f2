"""A forked Claude Code session counts the requests it copied from its parent once.

tests/data/claude-fork was written by the real Claude Code 2.1.197 against the loopback mock:
a parent session of two requests and `--resume <parent> --fork-session` with a third, whose file
starts with a verbatim copy of the parent's lines. `billed.json` is what the mock billed for the
three requests: the sessions' tokens must add up to exactly that, each request in one session.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from agent_records import claude_request
from llm_session_manager.config import AgentConfig, Config
from llm_session_manager.core.models import SessionFacts, SessionKey, Usage
from llm_session_manager.core.poller import Poller
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources import claude_code
from llm_session_manager.store.repo import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "claude-fork"
BILLED: dict[str, Any] = json.loads((DATA / "billed.json").read_text())
PARENT, FORK = BILLED["parent"], BILLED["fork"]
PROJECT = Path(".claude") / "projects" / "-home-dev-src-demo"


def billed(*indexes: int) -> Usage:
    total = Usage()
    for i in indexes:
        u = BILLED["billed_conversation_requests"][i]["usage"]
        total += Usage(u["input_tokens"], u["output_tokens"], u["cache_creation_input_tokens"],
                       u["cache_read_input_tokens"])  # fmt: skip
    return total


def add(home: Path, session_id: str) -> Path:
    target = home / PROJECT / f"{session_id}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "home" / PROJECT / f"{session_id}.jsonl", target)
    return target


def poller(tmp_path: Path, home: Path) -> Poller:
    store = Store.open(tmp_path / "data" / "store.db")
    return Poller([claude_code.create(AgentConfig(), {}, home)], store, Config(),
                  scan_processes=ProcessTable)  # fmt: skip


def facts(p: Poller) -> dict[str, SessionFacts]:
    return {s.key.session_id: s.facts for s in p.poll_once().sessions}


def test_the_copied_requests_count_once_in_the_parent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    add(home, PARENT)
    add(home, FORK)
    found = facts(poller(tmp_path, home))
    parent, fork = found[PARENT], found[FORK]
    assert parent.lineage is not None and fork.lineage == parent.lineage
    assert parent.usage == billed(0, 1)
    assert fork.usage == billed(2)  # only the request it made itself
    assert parent.usage.total + fork.usage.total == billed(0, 1, 2).total
    assert sum(m.usage.total for m in fork.by_model) == fork.usage.total  # and so its cost
    # The conversation stays the fork's whole transcript: it shows the history it carries.
    assert (fork.prompts, fork.replies) == (3, 3)
    # The context is the fork's latest request's, not the parent's.
    last = BILLED["billed_conversation_requests"][2]["usage"]
    assert fork.context.tokens == (last["input_tokens"] + last["cache_creation_input_tokens"]
                                   + last["cache_read_input_tokens"])  # fmt: skip


def test_the_owner_does_not_depend_on_which_file_was_seen_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    add(home, FORK)
    p = poller(tmp_path, home)
    assert facts(p)[FORK].usage == billed(0, 1, 2)  # alone, nothing says it is a copy
    add(home, PARENT)
    found = facts(p)
    assert (found[PARENT].usage, found[FORK].usage) == (billed(0, 1), billed(2))
    assert p.last_stats.sessions_rebuilt == 2  # the fork, though its file did not change


def test_a_later_run_compares_with_the_saved_parent_reading_only_what_was_appended(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    add(home, PARENT)
    fork_file = add(home, FORK)
    facts(poller(tmp_path, home))

    # The fork runs on: one more request (the last reply's line, with its own ids and usage).
    appended = claude_request(fork_file, 1, input_tokens=7, output_tokens=5, cache_read=900,
                              timestamp="2026-11-25T05:00:00.000Z")  # fmt: skip
    with fork_file.open("ab") as handle:
        handle.write(appended)

    later = poller(tmp_path, home)  # a new process: the parent's state comes from the store
    snapshot = later.poll_once()
    found = {s.key.session_id: s.facts for s in snapshot.sessions}
    assert snapshot.bytes_read == len(appended)
    assert found[FORK].usage == billed(2) + Usage(7, 5, 0, 900)
    assert found[PARENT].usage == billed(0, 1)
    # Only the fork moved: the parent, built again to compare, is not saved or sampled again.
    assert later.last_stats.sessions_rebuilt == 1
    store = later.store
    assert store is not None
    assert len(store.samples_for(SessionKey("claude-code", PARENT))) == 1


def test_the_forks_chart_counts_its_own_tokens_from_0(tmp_path: Path) -> None:
    from llm_session_manager.core.session_history import SessionHistory

    home = tmp_path / "home"
    add(home, PARENT)
    add(home, FORK)
    p = poller(tmp_path, home)
    p.poll_once()
    history = SessionHistory(p)
    fork = history.series(SessionKey("claude-code", FORK))
    assert [pt.total_tokens for pt in fork.points] == [0, 0, billed(2).total]
    assert all(pt.fill is not None for pt in fork.points)  # the context line is the records'
    parent = history.series(SessionKey("claude-code", PARENT))
    assert [pt.total_tokens for pt in parent.points] == [billed(0).total, billed(0, 1).total]

