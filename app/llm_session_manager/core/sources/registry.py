"""Which sources exist and where each one looks: the one place that knows every agent.

Roots come from the config when set there, else from the agent's own environment variables and
per-OS defaults. An agent whose files are absent is still listed (for `info`) but costs only a
failed directory listing per poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from llm_session_manager.config import Config
from llm_session_manager.core.sources.base import Source

AGENTS = ("claude-code", "codex")


def build_sources(
    config: Config,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Source]:
    """The enabled sources, each with its roots resolved."""
    from llm_session_manager.core.sources.claude_code import (
        ClaudeCodeSource,
        default_config_dirs,
    )
    from llm_session_manager.core.sources.codex import CodexSource, default_codex_homes

    sources: list[Source] = []
    claude = config.agent("claude-code")
    if claude.enabled:
        dirs = _configured(claude.roots, home) or default_config_dirs(env, home)
        sources.append(ClaudeCodeSource(dirs, count_tokens=count_tokens))
    codex = config.agent("codex")
    if codex.enabled:
        homes = _configured(codex.roots, home) or default_codex_homes(env, home)
        sources.append(CodexSource(homes, count_tokens=count_tokens))
    return sources


def _configured(roots: tuple[str, ...], home: Path) -> list[Path]:
    return [_expand(root, home) for root in roots]


def _expand(root: str, home: Path) -> Path:
    if root == "~" or root.startswith("~/"):
        return home / root[2:]
    return Path(root)
