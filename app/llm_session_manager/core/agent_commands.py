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

# `claude --resume` and `gemini --resume` look the id up among the sessions of the current
# folder, so the `cd` is needed there; `codex resume` and `copilot --resume=` find any session,
# and the `cd` keeps the work on the project. Each form was checked with the real CLI (Claude
# Code 2.1.197, Codex 0.169.0, Gemini CLI 0.61.0, Copilot CLI 1.0.102, which prints its own
# `copilot --resume=<id>` on exit): the session goes on in the same record.
_RESUME: dict[str, tuple[str, ...]] = {
    "claude-code": ("claude", "--resume"),
    "codex": ("codex", "resume"),
    "gemini": ("gemini", "--resume"),
}
_RESUME_JOINED: dict[str, str] = {"copilot-cli": "copilot --resume="}


def _in_folder(cwd: str | None, command: str) -> str:
    return f"cd {shlex.quote(cwd)} && {command}" if cwd else command


def start_command(agent: str, cwd: str | None) -> str | None:
    """`cd '<cwd>' && claude`: a fresh session in the same folder."""
    program = _START.get(agent)
    return _in_folder(cwd, program) if program else None


def resume_command(key: SessionKey, cwd: str | None) -> str | None:
    """`cd '<cwd>' && claude --resume <id>`: back into this very session."""
    joined = _RESUME_JOINED.get(key.agent)
    if joined is not None:
        return _in_folder(cwd, joined + shlex.quote(key.session_id))
    words = _RESUME.get(key.agent)
    if words is None:
        return None
    return _in_folder(cwd, shlex.join([*words, key.session_id]))
