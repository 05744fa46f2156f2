"""Every agent side by side: one home holding records of all of them, through the CLI.

The home is the real clients' home (Claude Code, Codex, Gemini CLI, Copilot CLI), plus the real
opencode database, plus the public Cursor workspace DB and Copilot Chat session placed where
Cursor and VS Code keep them on Linux (`~/.config/<product>/User/workspaceStorage/<hash>/`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from every_agent_home import add_every_agent
from llm_session_manager.core.sources.registry import SOURCE_MODULES

AGENTS = {"claude-code", "codex", "gemini", "copilot-cli", "opencode", "cursor", "copilot-vscode"}


@pytest.fixture
def all_home(sample_home: Path) -> Path:
    return add_every_agent(sample_home)


def run_cli(data_dir: Path, home: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "llm_session_manager", "--data-dir", str(data_dir), *args]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}  # no agent variables from the test run
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def test_every_agent_is_registered() -> None:
    assert set(SOURCE_MODULES) == AGENTS


def test_list_shows_every_agent_side_by_side(all_home: Path, tmp_path: Path) -> None:
    sessions: list[dict[str, Any]] = json.loads(
        run_cli(tmp_path / "appdata", all_home, "list", "--format", "json")
    )
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for s in sessions:
        by_agent.setdefault(s["agent"], []).append(s)
    assert set(by_agent) == AGENTS
    for agent, mine in by_agent.items():
        for s in mine:
            assert s["id"] == f"{agent}:{s['session_id']}"
            assert s["state"] == "ended"  # nothing runs in this home
            assert s["tokens"]["total"] >= 0
    # Agents with exact token records show tokens; opencode's two sessions among them.
    for agent in ("claude-code", "codex", "gemini", "copilot-cli", "opencode"):
        assert any(s["tokens"]["total"] > 0 for s in by_agent[agent]), agent
    assert {s["cwd"] for s in by_agent["opencode"]} == {"/home/dev/src/demo", "/home/dev/src/other"}
    # Each agent's version where its records name one (the values: test_agent_version.py).
    for agent in ("claude-code", "codex", "copilot-cli", "opencode", "copilot-vscode"):
        assert all(s["agent_version"] for s in by_agent[agent]), agent
    for agent in ("gemini", "cursor"):
        assert all(s["agent_version"] is None for s in by_agent[agent]), agent


def test_info_lists_every_agents_roots(all_home: Path, tmp_path: Path) -> None:
    text = run_cli(tmp_path / "appdata", all_home, "info")
    lines = text.splitlines()
    start = lines.index("agents:")
    section: dict[str, list[str]] = {}
    current = ""
    for line in lines[start + 1:]:
        if line.startswith("    "):
            section[current].append(line.strip())
        elif line.startswith("  ") and ": " in line:
            current = line.strip().split(":")[0]
            section[current] = [line.strip()]
        else:
            break
    assert set(section) == AGENTS
    for agent, entries in section.items():
        header, roots = entries[0], entries[1:]
        count = int(header.split(": ")[1].split()[0])
        assert count > 0, header  # every agent found sessions in this home
        assert roots, f"{agent} lists no roots"
        assert all(r.endswith(("(found)", "(absent)")) for r in roots), roots
        assert any(r.endswith("(found)") for r in roots), f"{agent}: {roots}"
    assert f"{all_home}/.local/share/opencode (found)" in section["opencode"]
    assert "problems: none" in text
