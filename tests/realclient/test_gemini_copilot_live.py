"""The real Gemini CLI and GitHub Copilot CLI, interactive in tmux, seen through `list`.

Each client runs as users run it: a long-lived interactive process in a sandbox HOME, talking to a
loopback mock (Gemini's API for Gemini CLI; the Anthropic mock for Copilot's bring-your-own-key
mode). While it runs, the app must list its session as live with the client's pid; after the
client quits, as ended; and its tokens must equal what the mock billed (MOCK_LOG) for the
requests the client records.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from .conftest import Mock, Sandbox, Tmux, sandbox_env, wait_until

pytestmark = pytest.mark.realclient

TIMEOUT_S = 90
LIVE = ("active", "waiting", "idle")
PROMPT = "Say hello"
# A second turn sends the history again, so the mocks bill cached prompt tokens too.
SECOND = "Say hello again"


def list_sessions(box: Sandbox) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "llm_session_manager", "--data-dir", str(box.data_dir),
           "list", "--format", "json"]  # fmt: skip
    result = subprocess.run(
        cmd, capture_output=True, text=True, env=sandbox_env(box), timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}"
    sessions: list[dict[str, Any]] = json.loads(result.stdout)
    return sessions


def wait_for_session(
    box: Sandbox, tmux: Tmux, window: str, agent: str, accept: Callable[[dict[str, Any]], bool],
    what: str,
) -> dict[str, Any]:
    last: list[Any] = [None]

    def probe() -> dict[str, Any] | None:
        mine = [s for s in list_sessions(box) if s["agent"] == agent]
        last[0] = mine
        return next((s for s in mine if accept(s)), None)

    return wait_until(
        probe, TIMEOUT_S, f"{agent} session {what}",
        lambda: f"last listed: {json.dumps(last[0])}\nscreen:\n{tmux.screen(window)}",
    )  # fmt: skip


def wait_for_screen(tmux: Tmux, window: str, *texts: str) -> str:
    def probe() -> str | None:
        screen = tmux.screen(window)
        return next((t for t in texts if t in screen), None)

    return wait_until(probe, TIMEOUT_S, f"one of {texts} on screen", lambda: tmux.screen(window))


def type_line(tmux: Tmux, window: str, text: str) -> None:
    tmux.send(window, "-l", text)
    wait_for_screen(tmux, window, text)
    tmux.send(window, "Enter")


# On a loaded machine a client still drawing its last reply has been seen to drop the Enter of
# the next prompt (the text stays in its input box). A prompt counts as sent once the mock has
# a new request; until then Enter is pressed again, a few times at most.
SEND_TRIES, SEND_WAIT_S = 4, 10.0


def send_prompt(tmux: Tmux, window: str, text: str, mock: Mock) -> None:
    before = len(mock_log(mock))
    type_line(tmux, window, text)
    for _ in range(SEND_TRIES):
        deadline = time.monotonic() + SEND_WAIT_S
        while time.monotonic() < deadline:
            if len(mock_log(mock)) > before:
                return
            time.sleep(0.25)
        tmux.send(window, "Enter")
    raise AssertionError(f"{text!r} never reached the mock\n{tmux.screen(window)}")


# On a loaded machine the CLI has been seen to outlive /quit by minutes (its window gone, its
# node processes still there); what is under test is that the app sees the exit, so a client
# still running after the grace period is stopped the way a user would, with SIGTERM.
QUIT_GRACE_S = 20.0


def stop_if_lingering(pids: set[int], grace: float) -> None:
    procs = []
    for p in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(p))
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    psutil.wait_procs(alive, timeout=10)


def family(pid: int) -> set[int]:
    """The pane's process and its descendants: the client's own processes."""
    try:
        root = psutil.Process(pid)
        return {pid} | {p.pid for p in root.children(recursive=True)}
    except psutil.Error:
        return {pid}


def mock_log(mock: Mock) -> list[dict[str, Any]]:
    if not mock.log.exists():
        return []
    return [json.loads(line) for line in mock.log.read_text().splitlines() if line.strip()]


# -- Gemini CLI -----------------------------------------------------------------------------

def gemini_sandbox(box: Sandbox) -> None:
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        "telemetry": {"enabled": False},
    }
    (box.home / ".gemini").mkdir(exist_ok=True)
    (box.home / ".gemini" / "settings.json").write_text(json.dumps(settings))


def gemini_billed(mock: Mock) -> dict[str, int]:
    """What the mock billed for the chat requests, which the chat file records one by one.
    Helper requests with a response schema (Gemini CLI's next-speaker and routing checks) and
    countTokens are billed or answered too, but no chat record carries them."""
    totals = {"prompt": 0, "cached": 0, "candidates": 0, "thoughts": 0, "requests": 0}
    for rec in mock_log(mock):
        config = rec.get("gen_config") or {}
        if not rec.get("usage") or rec.get("reply") == "error" or not rec.get("tools"):
            continue
        if config.get("responseJsonSchema") or config.get("responseSchema"):
            continue
        usage = rec["usage"]
        totals["prompt"] += usage["promptTokenCount"]
        totals["cached"] += usage["cachedContentTokenCount"]
        totals["candidates"] += usage["candidatesTokenCount"]
        totals["thoughts"] += usage["thoughtsTokenCount"]
        totals["requests"] += 1
    return totals


def test_gemini_interactive_is_live_then_ended_with_billed_tokens(
    gemini_bin: Path, gemini_mock: Mock, sandbox: Sandbox, tmux: Tmux
) -> None:
    gemini_sandbox(sandbox)
    window = "gm"
    pid = tmux.new_session(window, sandbox.project, [
        "env", f"HOME={sandbox.home}", "GEMINI_API_KEY=dummy",
        f"GOOGLE_GEMINI_BASE_URL={gemini_mock.url}", str(gemini_bin),
    ])  # fmt: skip
    wait_for_screen(tmux, window, "Type your message")
    send_prompt(tmux, window, PROMPT, gemini_mock)
    wait_for_screen(tmux, window, "Hello from the mock Gemini server.")

    live = wait_for_session(
        sandbox, tmux, window, "gemini",
        lambda s: s["state"] in LIVE and s["cwd"] == str(sandbox.project), "live in the project",
    )  # fmt: skip
    assert live["pids"], live
    assert set(live["pids"]) <= family(pid), (live["pids"], family(pid))
    send_prompt(tmux, window, SECOND, gemini_mock)
    idle = wait_for_session(
        sandbox, tmux, window, "gemini",
        lambda s: s["session_id"] == live["session_id"] and s["state"] == "idle"
        and s["tokens"]["cache_read"] > 0, "idle after the second reply",
    )  # fmt: skip
    assert idle["pids"]

    client = family(pid)  # before quitting: an exiting parent no longer lists its children
    type_line(tmux, window, "/quit")
    stop_if_lingering(client, QUIT_GRACE_S)
    ended = wait_for_session(
        sandbox, tmux, window, "gemini",
        lambda s: s["session_id"] == live["session_id"] and s["state"] == "ended", "ended",
    )  # fmt: skip
    assert ended["pids"] == []

    billed = gemini_billed(gemini_mock)
    assert billed["requests"] >= 2 and billed["cached"] > 0
    tokens = ended["tokens"]
    assert tokens["source"] == "exact"
    assert tokens["cache_read"] == billed["cached"]
    assert tokens["input"] == billed["prompt"] - billed["cached"]
    assert tokens["output"] == billed["candidates"] + billed["thoughts"]
    assert tokens["reasoning"] == billed["thoughts"]


# -- GitHub Copilot CLI ---------------------------------------------------------------------

def copilot_billed(mock: Mock) -> dict[str, int]:
    """What the Anthropic mock billed for the messages requests that got a reply."""
    totals = {"input": 0, "cache_creation": 0, "cache_read": 0, "output": 0, "requests": 0}
    for rec in mock_log(mock):
        usage = rec.get("usage")
        if not usage or rec.get("reply") in ("count_tokens", "404", "error400"):
            continue
        totals["input"] += usage["input_tokens"]
        totals["cache_creation"] += usage["cache_creation_input_tokens"]
        totals["cache_read"] += usage["cache_read_input_tokens"]
        totals["output"] += usage["output_tokens"]
        totals["requests"] += 1
    return totals


def test_copilot_interactive_is_live_then_ended_with_billed_tokens(
    copilot_bin: Path, anthropic_mock: Mock, sandbox: Sandbox, tmux: Tmux
) -> None:
    window = "cp"
    pid = tmux.new_session(window, sandbox.project, [
        "env", f"HOME={sandbox.home}", "COPILOT_OFFLINE=true",
        f"COPILOT_PROVIDER_BASE_URL={anthropic_mock.url}",
        "COPILOT_PROVIDER_TYPE=anthropic", "COPILOT_PROVIDER_API_KEY=dummy",
        "COPILOT_MODEL=claude-sonnet-4.5", str(copilot_bin), "--allow-all-tools",
    ])  # fmt: skip
    ready = wait_for_screen(tmux, window, "trust the files", "Type @", "Enter to send", ">")
    if ready == "trust the files":
        tmux.send(window, "Enter")  # the first choice: trust this folder for this session
    send_prompt(tmux, window, PROMPT, anthropic_mock)

    live = wait_for_session(
        sandbox, tmux, window, "copilot-cli",
        lambda s: s["state"] in LIVE and s["cwd"] == str(sandbox.project), "live in the project",
    )  # fmt: skip
    assert live["pids"], live
    assert set(live["pids"]) <= family(pid), (live["pids"], family(pid))
    wait_for_session(
        sandbox, tmux, window, "copilot-cli",
        lambda s: s["session_id"] == live["session_id"] and s["tokens"]["output"] > 0,
        "the first reply recorded",
    )  # fmt: skip
    send_prompt(tmux, window, SECOND, anthropic_mock)
    idle = wait_for_session(
        sandbox, tmux, window, "copilot-cli",
        lambda s: s["session_id"] == live["session_id"] and s["state"] == "idle"
        and s["tokens"]["cache_read"] > 0, "idle after the second reply",
    )  # fmt: skip
    assert idle["pids"]

    type_line(tmux, window, "/exit")
    ended = wait_for_session(
        sandbox, tmux, window, "copilot-cli",
        lambda s: s["session_id"] == live["session_id"] and s["state"] == "ended", "ended",
    )  # fmt: skip
    assert ended["pids"] == []

    billed = copilot_billed(anthropic_mock)
    assert billed["requests"] >= 2 and billed["cache_read"] > 0
    tokens = ended["tokens"]
    assert tokens["source"] == "exact"
    assert tokens["input"] == billed["input"]
    assert tokens["cache_creation"] == billed["cache_creation"]
    assert tokens["cache_read"] == billed["cache_read"]
    assert tokens["output"] == billed["output"]
