"""`export` through the CLI for one session of each agent whose conversation is read from its own
record: Gemini CLI, Copilot CLI, Copilot Chat, Cursor and opencode, in one prepared home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from every_agent_home import add_every_agent
from llm_session_manager.cli import main

# agent -> (session, start of its first prompt, roles the exported conversation must hold)
SESSIONS = {
    "gemini": ("adea444b-50ee-4b62-8d31-753f58b9c843", "[[tool:read-missing]] read it",
               {"user", "assistant", "tool_call", "tool_result"}),
    "copilot-cli": ("044396fc-8599-4a47-83af-1dc41d9b3542", "[[tool:bash]] list files",
                    {"user", "assistant", "tool_call", "tool_result"}),
    "copilot-vscode": ("f56f201a-672e-4cc5-ada9-4736258cc586",
                       "Does this application have a debug option",
                       {"user", "assistant", "tool_call", "tool_result"}),
    "cursor": ("a76419da-5045-4dcb-a1d4-307eab526a30",
               "create settings page that enables to enter OpenAI API key", {"user", "assistant"}),
    "opencode": ("ses_df0008101ffeU7dtBTqnuNRDhR", "Say hello", {"user", "assistant", "error"}),
}  # fmt: skip


@pytest.fixture
def env(sample_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real clients' home plus opencode's database and the editors' sample files placed
    where Cursor and VS Code keep them on Linux; HOME points at it, agent variables cleared."""
    add_every_agent(sample_home)
    monkeypatch.setenv("HOME", str(sample_home))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                 "GEMINI_CLI_HOME", "COPILOT_HOME", "OPENCODE_DB", "APPDATA"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "appdata"
    data.mkdir()
    return data


@pytest.mark.parametrize("agent", sorted(SESSIONS))
def test_export_holds_the_conversation_and_the_brief(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], agent: str
) -> None:
    session_id, first_prompt, wanted = SESSIONS[agent]
    out = tmp_path / "session.json"
    assert main(["--data-dir", str(env), "export", session_id, "-o", str(out),
                 "--format", "json"]) == 0  # fmt: skip
    document = json.loads(out.read_text())
    assert document["session"]["agent"] == agent
    conversation = document["conversation"]
    assert conversation["note"] is None
    turns = conversation["turns"]
    assert wanted <= {t["role"] for t in turns}
    assert turns[0]["role"] == "user" and turns[0]["text"].startswith(first_prompt)

    markdown = tmp_path / "session.md"
    assert main(["--data-dir", str(env), "export", session_id, "-o", str(markdown)]) == 0
    text = markdown.read_text()
    assert "## Continuation brief" in text and "## Goal" in text
    goal = text[text.index("## Goal"):]
    assert f"> {first_prompt}" in goal
    assert "supported yet" not in text
