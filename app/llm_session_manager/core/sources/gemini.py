"""Gemini CLI: chats under `<gemini dir>/tmp/<project>/chats/`.

`<gemini dir>` is `~/.gemini` on every OS (Windows: `%USERPROFILE%\\.gemini`); the CLI takes its
home from `$GEMINI_CLI_HOME` when set (`$GEMINI_CLI_HOME/.gemini`). `<project>` is a short project
name (0.61; its `.project_root` file holds the project's path, and `~/.gemini/projects.json` maps
paths to names) or, in older versions, the SHA-256 of the path. One session is one file:
`session-<time>-<id8>.jsonl` (`--resume` appends to it), or the older `session-*.json` document;
a sub-agent writes `chats/<parent session id>/<session id>.jsonl`, which belongs to its parent.

Records are read in `gemini_chat.py`, tokens converted in `gemini_tokens.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import (
    Context,
    Errors,
    LiveState,
    ModelUsage,
    SessionFacts,
    SessionKey,
    Usage,
)
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.sources.base import (
    FileAccumulator,
    TrackedFile,
    configured_roots,
)
from llm_session_manager.core.sources.gemini_chat import ChatAccumulator
from llm_session_manager.core.sources.gemini_tokens import prompt_size, to_usage
from llm_session_manager.core.sources.iso_time import parse_time, parse_times
from llm_session_manager.core.sources.listing import ListingCache
from llm_session_manager.core.sources.stat_cache import StatCache
from llm_session_manager.core.sources.text import short_title

if TYPE_CHECKING:
    from llm_session_manager.core.timeline import Timeline, TimelineBuilder

SMALL_FILE_BYTES = 64 << 10  # .project_root, the start of a chat file
PROJECTS_FILE_BYTES = 1 << 20
_CHAT = re.compile(r"^session-.+\.jsonl?$")
_SESSION_ID = re.compile(rb'"sessionId"\s*:\s*"(?P<id>[^"\\]+)"')
_UNKNOWN_MODEL = "unknown"


def default_gemini_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$GEMINI_CLI_HOME/.gemini` (the CLI's own override of its home) else `~/.gemini`."""
    override = env.get("GEMINI_CLI_HOME", "").strip()
    return [Path(override).expanduser() / ".gemini" if override else home / ".gemini"]


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> GeminiSource:
    """The source for the registry: configured Gemini dirs, else $GEMINI_CLI_HOME or ~/.gemini."""
    return GeminiSource(configured_roots(agent_config, home) or default_gemini_dirs(env, home))


def _read_small(path: str, limit: int = SMALL_FILE_BYTES) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


_Chat = tuple[str, str, int]  # a chat file's path, name and inode


def _chats_folders(root: str, listing: list[os.DirEntry[str]]) -> list[str]:
    return [os.path.join(project.path, "chats") for project in listing]


def _chat_items(folder: str, listing: list[os.DirEntry[str]]) -> list[str | _Chat]:
    """chats/ by name: sub-agent folders (their paths) and chat files."""
    items: list[str | _Chat] = []
    for entry in sorted(listing, key=lambda e: e.name):
        try:
            if entry.is_dir(follow_symlinks=False):
                items.append(entry.path)
            elif _CHAT.match(entry.name) and entry.is_file():
                items.append((entry.path, entry.name, entry.inode()))
        except OSError:
            continue
    return items


def _subagent_chats(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile]:
    """chats/<parent session id>/<session id>.jsonl: sub-agents of that session, by name."""
    parent = os.path.basename(folder)
    found: list[TrackedFile] = []
    try:
        for sub in sorted(listing, key=lambda e: e.name):
            if sub.name.endswith(".jsonl") and sub.is_file():
                found.append(TrackedFile(sub.path, parent, "subagent"))
    except OSError:
        pass  # as when the folder cannot be listed: what was found so far stands
    return found


class GeminiSource:
    agent = "gemini"

    def __init__(self, gemini_dirs: Sequence[Path]) -> None:
        self._dirs = list(gemini_dirs)
        # path -> (inode, session id): a chat's id is read once from its first bytes.
        self._ids: dict[str, tuple[int, str]] = {}
        # small side files (.project_root, projects.json), re-read only when their stat changes
        self._small: StatCache[Any] = StatCache()
        # Listings kept while their folder's stat stays the same: a warm poll stats tmp/, each
        # project's chats/ and each sub-agent folder instead of listing them.
        self._projects: ListingCache[list[str]] = ListingCache(_chats_folders, [])
        self._chats: ListingCache[list[str | _Chat]] = ListingCache(_chat_items, [])
        self._subagents: ListingCache[list[TrackedFile]] = ListingCache(_subagent_chats, [])

    def roots(self) -> Sequence[Path]:
        return [d / "tmp" for d in self._dirs]

    # ---- discovery -------------------------------------------------------------------------

    def discover(self) -> list[TrackedFile]:
        found: list[TrackedFile] = []
        for root in self.roots():
            for chats in self._projects.get(str(root)):
                for item in self._chats.get(chats):
                    if isinstance(item, str):  # chats/<parent session id>/: its sub-agents
                        found += self._subagents.get(item)
                        continue
                    path, name, inode = item
                    session_id = self._session_id(path, name, inode)  # may wait for its header
                    if session_id is not None:
                        role = "legacy" if name.endswith(".json") else "main"
                        found.append(TrackedFile(path, session_id, role))
        for cache in (self._projects, self._chats, self._subagents):
            cache.prune()
        return found

    def _session_id(self, path: str, name: str, inode: int) -> str | None:
        """The full session id from the file's header (the name holds only its first 8 chars).

        Read once per file: a new file costs one small read, a known one nothing. A file whose
        header is not written yet is left for the next poll.
        """
        known = self._ids.get(path)
        if known is not None and known[0] == inode:
            return known[1]
        head = _read_small(path)
        if not head:
            return None
        match = _SESSION_ID.search(head)
        if match is not None:
            session_id = match.group("id").decode(errors="replace")
        elif b"\n" in head or len(head) >= SMALL_FILE_BYTES:
            # An older document that names its id further in: the name's id part stands in.
            session_id = name.rsplit(".", 1)[0].rsplit("-", 1)[-1]
        else:
            return None
        self._ids[path] = (inode, session_id)
        return session_id

    # ---- accumulators ----------------------------------------------------------------------

    def new_accumulator(self, tracked: TrackedFile) -> FileAccumulator:
        return ChatAccumulator(legacy=tracked.role == "legacy")

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> FileAccumulator:
        return ChatAccumulator.restore(state)

    # ---- facts -----------------------------------------------------------------------------

    def build(
        self, key: SessionKey, files: Sequence[tuple[TrackedFile, FileAccumulator]]
    ) -> SessionFacts:
        chats = [(t, a) for t, a in files if isinstance(a, ChatAccumulator)]
        mains = [(t, a) for t, a in chats if t.role != "subagent"]
        if not mains:
            raise ValueError(f"no Gemini chat for {key}")
        # A legacy .json migrated to .jsonl on resume is one history in two files: the newest
        # copy speaks for the session, its sub-agents' replies are added to its usage.
        tracked, acc = max(mains, key=lambda m: (m[1].last_ts or "", m[0].role == "main"))
        replies = acc.replies_with_tokens()
        for t, sub in chats:
            if t.role == "subagent":
                replies += sub.replies_with_tokens()
        usage, by_model = _usage_of(replies, [acc] + [s for t, s in chats if t.role == "subagent"])
        own = acc.replies_with_tokens()
        model = acc.model or next((m for m, _ in reversed(own) if m), None)
        context = Context(tokens=prompt_size(own[-1][1]) if own else None)
        recent = parse_times(acc.recent_errors)
        errors = Errors(acc.tool_errors, acc.api_errors, recent, acc.last_error)
        title = acc.summary or (short_title(acc.first_prompt) if acc.first_prompt else None)
        return SessionFacts(
            key=key,
            title=title,
            first_prompt=acc.first_prompt,
            cwd=self._project_path(tracked.path) or acc.workspace_dir,
            model=model,
            started_at=parse_time(acc.start_time) or parse_time(acc.first_ts),
            last_activity_at=parse_time(acc.last_ts),
            usage=usage,
            by_model=by_model,
            context=context,
            errors=errors,
            prompts=acc.prompts,
            replies=acc.replies,
            paths=tuple(t.path for t, _ in chats),
            turn_hint=acc.turn_hint,
        )

    def _project_path(self, chat_path: str) -> str | None:
        """The project's path: `<project>/.project_root`, else `projects.json`'s entry."""
        project = os.path.dirname(os.path.dirname(chat_path))
        root = self._small_file(os.path.join(project, ".project_root"), _text_file)
        if isinstance(root, str) and root:
            return root
        gemini_dir = os.path.dirname(os.path.dirname(project))
        projects = self._small_file(os.path.join(gemini_dir, "projects.json"), _json_file)
        name = os.path.basename(project)
        if isinstance(projects, dict) and isinstance(projects.get("projects"), dict):
            for path, short in projects["projects"].items():
                if short == name and isinstance(path, str):
                    return path
        return None

    def _small_file(self, path: str, parse: Callable[[bytes], Any]) -> Any:
        def read(path: str, size: int) -> Any:
            limit = PROJECTS_FILE_BYTES if path.endswith(".json") else SMALL_FILE_BYTES
            data = _read_small(path, limit)
            return parse(data) if data is not None and len(data) < limit else None

        return self._small.get(path, read)

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's conversation, streamed from its chat files (ConversationReader)."""
        from llm_session_manager.core.sources.gemini_conversation import read_conversation

        return read_conversation(facts.paths)

    def timeline_builder(self, facts: SessionFacts) -> TimelineBuilder:
        """Reads the session's chat files into its token history (TimelineReader)."""
        from llm_session_manager.core.sources.gemini_timeline import GeminiTimelineBuilder

        return GeminiTimelineBuilder(facts.paths)

    def timeline(self, facts: SessionFacts) -> Timeline:
        # Imported here: only a selected session's chart reads its history.
        from llm_session_manager.core.timeline import read_timeline

        return read_timeline(self.timeline_builder(facts))

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live_gemini import gemini_live

        return gemini_live(processes, sessions)


def _text_file(data: bytes) -> str | None:
    text = data.decode(errors="replace").strip()
    return text.splitlines()[0].strip() if text else None


def _json_file(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _usage_of(
    replies: list[tuple[str | None, list[int]]], accs: Sequence[ChatAccumulator]
) -> tuple[Usage, tuple[ModelUsage, ...]]:
    per_model: dict[str, Usage] = {}
    for model, raw in replies:
        name = model or _UNKNOWN_MODEL
        per_model[name] = per_model.get(name, Usage()) + to_usage(raw)
    for acc in accs:  # replies rewound out of the conversation were still billed
        for model, raw in acc.rewound.items():
            name = model or _UNKNOWN_MODEL
            per_model[name] = per_model.get(name, Usage()) + to_usage(raw)
    total = sum(per_model.values(), Usage())
    return total, tuple(ModelUsage(m, u) for m, u in per_model.items())
