"""The resume command the app offers takes the real CLI back into the same session.

Each client answers one prompt (`-p`), then the command `resume_command` gives for the session the
app lists is run in a shell, with one more prompt: the app must then list one session, the same
id, with both prompts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from llm_session_manager.core.agent_commands import resume_command
from llm_session_manager.core.models import SessionKey

from .conftest import Mock, Sandbox, sandbox_env
from .test_gemini_copilot_live import gemini_sandbox, list_sessions

pytestmark = pytest.mark.realclient


def run(box: Sandbox, env: dict[str, str], command: str) -> None:
    result = subprocess.run(["sh", "-c", command], cwd=box.project, env=env, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"


def resumed(box: Sandbox, env: dict[str, str], agent: str, first: str, flags: str = "") -> None:
    run(box, env, f"{first} {flags}")
    [listed] = [s for s in list_sessions(box) if s["agent"] == agent]
    command = resume_command(SessionKey(agent, listed["session_id"]), listed["cwd"])
    assert command is not None and listed["cwd"] == str(box.project)
    run(box, env, f"{command} -p 'and once more' {flags}")
    [again] = [s for s in list_sessions(box) if s["agent"] == agent]
    assert again["session_id"] == listed["session_id"]
    assert again["prompts"] == listed["prompts"] + 1


def test_gemini_resume_command(gemini_bin: Path, gemini_mock: Mock, sandbox: Sandbox) -> None:
    gemini_sandbox(sandbox)
    env = {**sandbox_env(sandbox), "GEMINI_API_KEY": "dummy",
           "GOOGLE_GEMINI_BASE_URL": gemini_mock.url}  # fmt: skip
    env["PATH"] = f"{gemini_bin.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    resumed(sandbox, env, "gemini", "gemini -p 'say hello'")


def test_copilot_resume_command(
    copilot_bin: Path, anthropic_mock: Mock, sandbox: Sandbox
) -> None:
    env = {**sandbox_env(sandbox), "COPILOT_OFFLINE": "true",
           "COPILOT_PROVIDER_BASE_URL": anthropic_mock.url, "COPILOT_PROVIDER_TYPE": "anthropic",
           "COPILOT_PROVIDER_API_KEY": "dummy", "COPILOT_MODEL": "claude-sonnet-4.5"}  # fmt: skip
    env["PATH"] = f"{copilot_bin.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    resumed(sandbox, env, "copilot-cli", "copilot -p 'say hello'", "--allow-all-tools")
