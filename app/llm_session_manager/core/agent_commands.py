"""The shell commands that start a fresh session of an agent, or resume one, in its folder.

Only agents with a terminal command and a documented way to resume by id are covered; an IDE
agent (Cursor, Copilot in VS Code) has no command to suggest, and gets None.
"""

from __future__ import annotations

import shlex

from llm_session_manager.core.models import SessionKey

_START: dict[str, str] = {
    "claude-code": "claude",
    "codex": "codex",
    "gemini": "gemini",
    "copilot-cli": "copilot",
    "opencode": "opencode",
}

# `claude --resume` looks the id up among the sessions of the current folder, so the `cd` is
# needed there; `codex resume` finds any thread, and the `cd` keeps its sandbox on the project.
_RESUME: dict[str, tuple[str, ...]] = {
    "claude-code": ("claude", "--resume"),
    "codex": ("codex", "resume"),
}


def _in_folder(cwd: str | None, command: str) -> str:
    return f"cd {shlex.quote(cwd)} && {command}" if cwd else command


def start_command(agent: str, cwd: str | None) -> str | None:
    """`cd '<cwd>' && claude`: a fresh session in the same folder."""
    program = _START.get(agent)
    return _in_folder(cwd, program) if program else None


def resume_command(key: SessionKey, cwd: str | None) -> str | None:
    """`cd '<cwd>' && claude --resume <id>`: back into this very session."""
    words = _RESUME.get(key.agent)
    if words is None:
        return None
    return _in_folder(cwd, shlex.join([*words, key.session_id]))
