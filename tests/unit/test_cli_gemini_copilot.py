"""`list --format json` over a copy of the sample home shows Gemini CLI and Copilot CLI sessions,
with their exact tokens, beside Claude Code's and Codex's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_session_manager.cli import main


def test_list_json_shows_gemini_and_copilot_beside_the_others(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("GEMINI_CLI_HOME", "COPILOT_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--data-dir", str(cli_env), "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {row["id"]: row for row in rows}
    assert {"claude-code", "codex", "gemini", "copilot-cli"} <= {row["agent"] for row in rows}
    assert sum(row["agent"] == "gemini" for row in rows) == 6
    assert sum(row["agent"] == "copilot-cli" for row in rows) == 5

    resumed = by_id["gemini:adea444b-50ee-4b62-8d31-753f58b9c843"]
    assert resumed["project"] == "gmapp"
    assert resumed["tokens"] == {"input": 7042, "output": 96, "cache_creation": 0,
                                 "cache_read": 2048, "reasoning": 36, "total": 9186,
                                 "source": "exact"}
    assert resumed["context"]["tokens"] == 3050
    assert resumed["context"]["window"] == 1_048_576  # the config's table for Gemini
    assert resumed["errors"] == {"tool": 1, "api": 0}

    bash = by_id["copilot-cli:044396fc-8599-4a47-83af-1dc41d9b3542"]
    assert (bash["project"], bash["git_branch"]) == ("cpapp", "topic")
    assert bash["tokens"] == {"input": 20, "output": 37, "cache_creation": 1380,
                              "cache_read": 9300, "reasoning": 0, "total": 10737,
                              "source": "exact"}
    assert (bash["context"]["tokens"], bash["context"]["window"]) == (9493, 168000)
    assert by_id["copilot-cli:8bc4f7a1-10ed-43ed-bff0-a6dd96773791"]["errors"] == {
        "tool": 0, "api": 2}
