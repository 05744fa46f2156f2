"""The real Claude Code CLI forks a session (`--resume <id> --fork-session`): the fork's file copies
its parent's requests, and `llm_session_manager list` must count each request the mock billed
exactly once across the two sessions, the copied ones in the parent.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import Mock, Sandbox, sandbox_env
from .test_claude_live import list_sessions

pytestmark = pytest.mark.realclient

TITLE_PROMPT = "Generate a concise"  # the CLI's title request: billed, in no transcript


def ask(claude_bin: Path, mock: Mock, box: Sandbox, *args: str) -> str:
    env = {**sandbox_env(box), "ANTHROPIC_BASE_URL": mock.url, "ANTHROPIC_API_KEY": "dummy",
           "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}  # fmt: skip
    result = subprocess.run(
        [str(claude_bin), "-p", *args, "--output-format", "json"], cwd=box.project, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    session_id: str = json.loads(result.stdout)["session_id"]
    return session_id


def billed(mock: Mock) -> list[dict[str, Any]]:
    """The usage the mock returned for each conversation request, in order."""
    rows = [json.loads(line) for line in mock.log.read_text().splitlines()]
    return [r["usage"] for r in rows if TITLE_PROMPT not in r.get("system_head", "")]


def total(usage: dict[str, Any]) -> int:
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens")  # fmt: skip
    return sum(int(usage[k]) for k in keys)


def test_a_forked_session_counts_its_parents_requests_once(
    claude_bin: Path, anthropic_mock: Mock, sandbox: Sandbox
) -> None:
    parent = ask(claude_bin, anthropic_mock, sandbox, "hello there")
    assert ask(claude_bin, anthropic_mock, sandbox, "second question", "--resume", parent) == (
        parent)  # a resume appends to the same session
    fork = ask(claude_bin, anthropic_mock, sandbox, "forked question", "--resume", parent,
               "--fork-session")  # fmt: skip
    assert fork != parent

    requests = billed(anthropic_mock)
    assert len(requests) == 3
    rows = {r["session_id"]: r for r in list_sessions(sandbox) if r["agent"] == "claude-code"}
    assert set(rows) == {parent, fork}
    assert rows[parent]["tokens"]["total"] == total(requests[0]) + total(requests[1])
    assert rows[fork]["tokens"]["total"] == total(requests[2])
    assert rows[fork]["tokens"]["output"] == requests[2]["output_tokens"]
    assert rows[parent]["tokens"]["source"] == rows[fork]["tokens"]["source"] == "exact"
