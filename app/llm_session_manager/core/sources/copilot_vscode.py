"""GitHub Copilot Chat in VS Code and its builds and forks: one file per chat session.

The user dirs are `<app data>/<product>/User` for VS Code, Code - Insiders, VSCodium and the forks
Cursor, Windsurf and Positron (formats.md §4.1), on each OS where Electron keeps app data.
`<user dir>/workspaceStorage/<hash>/chatSessions/<session>.json` is the whole session document
(rewritten on every change); newer VS Code writes `<session>.jsonl`, a change log replayed in
`copilot_log.py`, and when both exist the log is the current one. Chats opened with no folder are in
`globalStorage/emptyWindowChatSessions/`, and chats handed over to another window or workspace in
`globalStorage/transferredChatSessions/`, in the same two formats. The folder of a workspace is in
its `workspace.json`. A changed file is read whole (a session is a few MB at most) or, for a log,
line by line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import LiveState, Problem, SessionFacts
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import SnapshotRead, configured_roots
from llm_session_manager.core.sources.copilot_chat import AGENT, session_facts
from llm_session_manager.core.sources.copilot_log import MAX_LINE_BYTES, replay_log
from llm_session_manager.core.sources.editor_dirs import user_dirs, workspace_dirs, workspace_folder
from llm_session_manager.core.sources.json_values import as_dict
from llm_session_manager.core.sources.text_tokens import TextCounter

PRODUCTS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf", "Positron")
SESSIONS_DIR = "chatSessions"
EMPTY_WINDOW_DIR = "emptyWindowChatSessions"
TRANSFERRED_DIR = "transferredChatSessions"
MAX_DOCUMENT_BYTES = 256 << 20  # a session document is a few MB; far larger is not one


def default_user_dirs(
    env: Mapping[str, str], home: Path, platform: str | None = None
) -> list[Path]:
    return user_dirs(PRODUCTS, env, home, platform)


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> CopilotVSCodeSource:
    """The source for the registry: configured user dirs (`…/Code/User`), else every editor's."""
    dirs = configured_roots(agent_config, home) or default_user_dirs(env, home)
    return CopilotVSCodeSource(dirs, count_tokens=count_tokens)


def _session_files(folder: str) -> Iterator[str]:
    """`*.json` and `*.jsonl` in `folder`; a `.json` whose `.jsonl` exists is the stale copy."""
    try:
        with os.scandir(folder) as entries:
            names = {e.name: e.path for e in entries if e.name.endswith((".json", ".jsonl"))}
    except OSError:
        return
    for name in sorted(names):
        if name.endswith(".json") and name + "l" in names:
            continue
        yield names[name]


class CopilotVSCodeSource:
    agent = AGENT

    def __init__(
        self,
        dirs: Sequence[Path],
        count_tokens: Callable[[str], int] | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self._dirs = list(dirs)
        self._count_tokens = count_tokens
        self._max_line = max_line_bytes

    def roots(self) -> Sequence[Path]:
        return list(self._dirs)

    def watched(self) -> list[str]:
        found: list[str] = []
        for user in self._dirs:
            # A transferred chat is moved into its new workspace when that opens; listed first so
            # that, when both copies changed in one poll, the workspace's (with its folder) is
            # read last and stands.
            found += _session_files(str(user / "globalStorage" / TRANSFERRED_DIR))
            for workspace in workspace_dirs(user):
                found += _session_files(os.path.join(workspace, SESSIONS_DIR))
            found += _session_files(str(user / "globalStorage" / EMPTY_WINDOW_DIR))
        return found

    def read(self, changed: Sequence[str]) -> SnapshotRead:
        counter = TextCounter(self._count_tokens)
        problems: list[Problem] = []
        facts: list[SessionFacts] = []
        folders: dict[str, str | None] = {}
        for path in changed:
            doc = self._load(path, problems, self._max_line)
            if doc is None:
                continue
            session_dir = os.path.dirname(path)
            cwd: str | None = None
            if os.path.basename(session_dir) == SESSIONS_DIR:
                workspace = os.path.dirname(session_dir)
                if workspace not in folders:
                    folders[workspace] = workspace_folder(workspace)
                cwd = folders[workspace]
            stem = os.path.splitext(os.path.basename(path))[0]
            facts.append(session_facts(doc, stem, cwd, path, counter))
        if counter.failure:
            problems.append(Problem(AGENT, counter.failure))
        return SnapshotRead(tuple(facts), tuple(problems))

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's conversation, from its session document (ConversationReader)."""
        from llm_session_manager.core.sources.copilot_chat_conversation import conversation_of

        problems: list[Problem] = []
        for path in facts.paths:
            doc = self._load(path, problems, self._max_line)
            if doc is not None:
                return conversation_of(doc)
        reason = problems[0].message if problems else "the session file is gone"
        return Conversation(unavailable=f"the session could not be read ({reason})")

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live_editor import VSCODE_APPS, editor_live

        return editor_live(processes, sessions, VSCODE_APPS)

    @staticmethod
    def _load(path: str, problems: list[Problem], max_line: int) -> dict[str, Any] | None:
        try:
            with open(path, "rb") as handle:
                if path.endswith(".jsonl"):
                    replay = replay_log(handle, max_line)
                    if replay.bad_lines:
                        problems.append(Problem(f"{path}:{replay.bad_lines[0]}",
                                                "not a change-log line", len(replay.bad_lines)))
                    if replay.oversized_lines:
                        problems.append(Problem(f"{path}:{replay.oversized_lines[0]}",
                                                "line too long, skipped",
                                                len(replay.oversized_lines)))
                    if replay.doc is None and replay.lines:  # an empty log is one being created
                        problems.append(Problem(path, "no session document (kind 0) in the log"))
                    return replay.doc
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            problems.append(Problem(path, exc.strerror or str(exc)))
            return None
        if len(data) > MAX_DOCUMENT_BYTES:
            problems.append(Problem(path, "session document too large, skipped"))
            return None
        try:
            doc = as_dict(orjson.loads(data))
        except orjson.JSONDecodeError as exc:
            # VS Code rewrites the file whole; a read mid-write fails here, and the write's end
            # changes the file's stat, so the next poll reads it again.
            problems.append(Problem(path, f"not a JSON session document ({exc})"))
            return None
        return doc or None
