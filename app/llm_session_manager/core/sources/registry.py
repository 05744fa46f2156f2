"""Which sources exist and where each one looks: the one place that knows every agent.

Each agent's module has a `create(agent_config, env, home, count_tokens)` that resolves its roots
(the config's when set, else the agent's own environment variables and per-OS defaults). An agent
whose files are absent is still listed (for `info`) but costs only failed directory listings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from llm_session_manager.config import Config
from llm_session_manager.core.sources.base import SnapshotSource, Source

# agent name -> module with create(); the order is the order of `info` and of each poll.
SOURCE_MODULES: dict[str, str] = {
    "claude-code": "llm_session_manager.core.sources.claude_code",
    "codex": "llm_session_manager.core.sources.codex",
    "gemini": "llm_session_manager.core.sources.gemini",
    "copilot-cli": "llm_session_manager.core.sources.copilot_cli",
    "opencode": "llm_session_manager.core.sources.opencode",
    "cursor": "llm_session_manager.core.sources.cursor",
    "copilot-vscode": "llm_session_manager.core.sources.copilot_vscode",
}


def build_sources(
    config: Config,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Source | SnapshotSource]:
    """The enabled sources, each with its roots resolved."""
    sources: list[Source | SnapshotSource] = []
    for agent, module_name in SOURCE_MODULES.items():
        agent_config = config.agent(agent)
        if not agent_config.enabled:
            continue
        module = importlib.import_module(module_name)
        sources.append(module.create(agent_config, env, home, count_tokens))
    return sources

