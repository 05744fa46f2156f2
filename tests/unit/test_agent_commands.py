"""The commands offered to start a fresh session or resume one, per agent.

The resume forms are the ones the real CLIs took (and Copilot CLI prints itself on exit): the
session went on in the same record file (see `core/agent_commands.py`).
"""

from __future__ import annotations

import pytest

from llm_session_manager.core.agent_commands import resume_command, start_command
from llm_session_manager.core.models import SessionKey

SID = "93e6d079-c2f4-47d4-8134-a11e34ae434c"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("claude-code", f"cd /home/dev/my app && claude --resume {SID}"),
        ("codex", f"cd /home/dev/my app && codex resume {SID}"),
        ("gemini", f"cd /home/dev/my app && gemini --resume {SID}"),
        ("copilot-cli", f"cd /home/dev/my app && copilot --resume={SID}"),
    ],
)
def test_resume_commands_of_the_terminal_agents(agent: str, expected: str) -> None:
    command = resume_command(SessionKey(agent, SID), "/home/dev/my app")
    assert command == expected.replace("/home/dev/my app", "'/home/dev/my app'")


def test_no_resume_command_where_there_is_no_documented_one() -> None:
    for agent in ("cursor", "copilot-vscode", "opencode"):
        assert resume_command(SessionKey(agent, SID), "/x") is None


def test_an_odd_session_id_is_quoted_and_no_folder_means_no_cd() -> None:
    assert resume_command(SessionKey("copilot-cli", "a b"), None) == "copilot --resume='a b'"
    assert resume_command(SessionKey("gemini", "a;b"), None) == "gemini --resume 'a;b'"
    assert start_command("gemini", "/p") == "cd /p && gemini"
    assert start_command("cursor", "/p") is None
