"""Which sessions have a running process, and what that process is doing.

Claude Code says so itself: every running `claude` writes `<config dir>/sessions/<pid>.json` with
its session id and a live status, so its mapping is exact once the pid is proven to be the same
process (`live_claude`). Codex writes no pid anywhere; its TUI, or the app-server it starts, holds
the rollout and a thread-writer lock open, so open files give the exact mapping (`live_codex`).
When nothing exact is available both fall back to the most recent session in the process's cwd,
and `LiveState.mapping` says which way each session was found.

The poller calls each source's `live()`; the sources call these functions.
"""

from __future__ import annotations

from llm_session_manager.core.live_claude import claude_live, read_proc_start
from llm_session_manager.core.live_codex import codex_live

__all__ = ["claude_live", "codex_live", "read_proc_start"]
