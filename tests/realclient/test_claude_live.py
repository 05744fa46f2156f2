"""The real Claude Code CLI, interactive in tmux, seen through `llm_session_manager list`.

A prompt makes the mock ask for a Read outside the project, which Claude Code does not allow
without asking, so a permission prompt shows. The app must then report the session as waiting,
as idle once the prompt is answered, and as ended once claude exits, with claude's pid.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from .conftest import Mock, Sandbox, Tmux, sandbox_env, wait_until

pytestmark = pytest.mark.realclient

WINDOW = "cc"
PROMPT = "[[tool:read-missing]] read the missing file"
STATE_TIMEOUT_S = 60


def list_sessions(box: Sandbox) -> list[dict[str, Any]]:
    """What the product says, asked the way a user asks: the CLI, in the sandbox HOME."""
    cmd = [sys.executable, "-m", "llm_session_manager", "--data-dir", str(box.data_dir),
           "list", "--format", "json"]  # fmt: skip
    result = subprocess.run(
        cmd, capture_output=True, text=True, env=sandbox_env(box), timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}"
    sessions: list[dict[str, Any]] = json.loads(result.stdout)
    return sessions


def session_in(box: Sandbox, session_id: str) -> dict[str, Any] | None:
    return next(
        (
            s
            for s in list_sessions(box)
            if s["agent"] == "claude-code" and s["session_id"] == session_id
        ),
        None,
    )


def wait_for_state(box: Sandbox, tmux: Tmux, session_id: str, state: str) -> dict[str, Any]:
    last: list[dict[str, Any] | None] = [None]

    def probe() -> dict[str, Any] | None:
        last[0] = session_in(box, session_id)
        return last[0] if last[0] is not None and last[0]["state"] == state else None

    return wait_until(
        probe,
        STATE_TIMEOUT_S,
        f"session {session_id} to be {state!r}",
        lambda: f"last listed: {json.dumps(last[0])}\nscreen:\n{tmux.screen(WINDOW)}",
    )


def wait_for_screen(tmux: Tmux, text: str) -> None:
    wait_until(
        lambda: True if text in tmux.screen(WINDOW) else None,
        STATE_TIMEOUT_S,
        f"{text!r} on claude's screen",
        lambda: tmux.screen(WINDOW),
    )


def test_claude_permission_prompt_is_waiting_then_idle_then_ended(
    claude_bin: Path, anthropic_mock: Mock, sandbox: Sandbox, tmux: Tmux
) -> None:
    command = [
        "env",
        f"HOME={sandbox.home}",
        f"ANTHROPIC_BASE_URL={anthropic_mock.url}",
        "ANTHROPIC_API_KEY=dummy",
        "DISABLE_TELEMETRY=1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
        str(claude_bin),
    ]
    # `env` execs claude, so the pane's pid is claude's own.
    pid = tmux.new_session(WINDOW, sandbox.project, command)
    pid_file = sandbox.claude_dir / "sessions" / f"{pid}.json"

    # Claude's own pid file names the session: the oracle the app is checked against.
    def session_id_written() -> str | None:
        try:
            value = json.loads(pid_file.read_text()).get("sessionId")
        except (OSError, ValueError):
            return None
        return value if isinstance(value, str) else None

    session_id = wait_until(
        session_id_written, STATE_TIMEOUT_S, f"{pid_file}", lambda: tmux.screen(WINDOW)
    )
    wait_for_screen(tmux, "for shortcuts")  # the input box is ready for typing

    tmux.send(WINDOW, "-l", PROMPT)
    wait_for_screen(tmux, PROMPT)
    tmux.send(WINDOW, "Enter")

    waiting = wait_for_state(sandbox, tmux, session_id, "waiting")
    assert "Do you want to proceed?" in tmux.screen(WINDOW)
    assert waiting["pids"] == [pid]
    assert psutil.Process(pid).name() == "claude"
    # The pid file says "permission prompt"; the transcript's pending tool call says for what.
    detail = waiting["state_detail"]
    if detail == "permission prompt":  # listed before the tool call line reached the transcript
        waiting = wait_until(
            lambda: (row if (row := session_in(sandbox, session_id)) is not None
                     and row["state_detail"] != "permission prompt" else None),
            STATE_TIMEOUT_S, "the tool named in the waiting detail", lambda: tmux.screen(WINDOW),
        )  # fmt: skip
    assert waiting["state"] == "waiting"
    assert waiting["state_detail"] == "permission prompt for Read"
    assert waiting["live_mapping"] == "pid-file"

    tmux.send(WINDOW, "Escape")  # declines the Read
    idle = wait_for_state(sandbox, tmux, session_id, "idle")
    assert idle["pids"] == [pid]

    tmux.send(WINDOW, "-l", "/exit")
    wait_for_screen(tmux, "/exit")
    tmux.send(WINDOW, "Enter")
    ended = wait_for_state(sandbox, tmux, session_id, "ended")
    assert ended["pids"] == []
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
