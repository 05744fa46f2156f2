"""Live state of cursor-agent CLI sessions, by the process's workspace (formats.md §3.4).

`cursor-agent` is a shell script that execs the node binary shipped beside its bundle
(`…/cursor-agent/versions/<version>/node …/index.js`); it writes no pid anywhere and holds no
transcript open, so a running one maps to the most recent session of its workspace ("cwd"): the
`--workspace` it was given, else its cwd. A transcript's folder is named after that workspace (the
slug), so the two are compared encoded, which needs no resolved cwd; a chat store's folder is the
MD5 of the workspace path (formats.md §3.3); a session whose cwd is known matches by that too.
Its state comes from the records' turn hint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llm_session_manager.core.live_match import (
    exe_name,
    hint_state,
    merge,
    most_recent,
    node_script,
    same_dir,
)
from llm_session_manager.core.models import LiveState, SessionFacts
from llm_session_manager.core.processes import ProcessInfo, ProcessTable
from llm_session_manager.core.sources.cursor_chats import is_chat_store
from llm_session_manager.core.sources.cursor_slug import SlugResolver
from llm_session_manager.core.sources.cursor_transcript_files import (
    is_transcript,
    transcript_slug,
)

_NAMES = frozenset({"cursor-agent", "cursor-agent.exe"})
_BUNDLE = "/cursor-agent/"  # the install folder, in the node binary's path or its script's


def is_cursor_agent(proc: ProcessInfo) -> bool:
    name = exe_name(proc).lower()
    if name in _NAMES:
        return True
    if not name.startswith("node"):
        return False  # tools the agent runs from its bundle (rg, …) are not the agent
    exe = proc.exe.replace("\\", "/").lower()
    return _BUNDLE in exe or _BUNDLE in (node_script(proc) or "").lower()


def workspace_of(proc: ProcessInfo, cwd: str | None) -> str | None:
    """The `--workspace` folder the agent was started with, else its cwd."""
    args = proc.cmdline[1:]
    for index, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name == "--workspace":
            folder = value if eq else (args[index + 1] if index + 1 < len(args) else "")
            if folder:
                return folder if os.path.isabs(folder) or not cwd else os.path.join(cwd, folder)
    return cwd


def cursor_agent_live(
    processes: ProcessTable,
    sessions: Mapping[str, SessionFacts],
    slugs: SlugResolver | None = None,
) -> dict[str, LiveState]:
    """Live transcript sessions keyed by session id; absent = ended."""
    agents = {p.pid: p for p in processes if is_cursor_agent(p)}
    if not agents:
        return {}
    slugs = slugs or SlugResolver()
    found: dict[str, LiveState] = {}
    for proc in agents.values():
        if proc.ppid in agents:
            continue  # a child of a running agent: reported with it
        pids = (proc.pid, *(c.pid for c in processes.children_of(proc.pid) if c.pid in agents))
        folder = workspace_of(proc, processes.cwd_of(proc.pid))
        if not folder:
            continue
        session_id = _newest_in(folder, sessions, found, slugs)
        if session_id is not None:
            merge(found, session_id, LiveState(hint_state(sessions[session_id]), pids, "cwd"))
    return found


def _newest_in(
    folder: str, sessions: Mapping[str, SessionFacts], taken: Mapping[str, LiveState],
    slugs: SlugResolver,
) -> str | None:
    """The most recent session the CLI recorded for the workspace `folder`."""

    def of_folder(facts: SessionFacts) -> bool:
        if not facts.paths or not _of_cli(facts.paths[0]):
            return False
        return bool(facts.cwd and same_dir(facts.cwd, folder)) or _named_for(
            facts.paths[0], folder, slugs)

    return most_recent(sessions, taken, of_folder)


def _of_cli(path: str) -> bool:
    """Whether a session's record is one the CLI writes (not an IDE database)."""
    return is_transcript(path) or is_chat_store(path)


def _named_for(path: str, folder: str, slugs: SlugResolver) -> bool:
    """Whether the record's folder is named after the workspace `folder`."""
    if is_chat_store(path):
        import hashlib  # only with a cursor-agent running; a few ms of every start-up otherwise

        workspace_hash = os.path.basename(os.path.dirname(os.path.dirname(path)))
        digest = hashlib.md5(folder.rstrip("/\\").encode(), usedforsecurity=False)
        return workspace_hash == digest.hexdigest()
    slug = transcript_slug(path)
    return bool(slug and slugs.same(slug, folder))
