"""Claude Code: sessions from `<config dir>/projects/<encoded cwd>/<session id>.jsonl`.

A session is its main transcript plus the transcripts of its subagents
(`<session id>/subagents/agent-*.jsonl`), whose lines carry the parent's session id and count
toward the parent's tokens. Older CLIs nested the main transcript in the session folder
(`<session id>/<name>.jsonl`); ccusage reads those too, with the folder's name as the session id,
so they are main transcripts of that session here as well. Usage is deduplicated the way ccusage
does it, so the totals match that independent reporter. The transcripts are only ever read,
through `core.tail`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import (
    Context,
    Errors,
    LiveState,
    SessionFacts,
    SessionKey,
)
from llm_session_manager.core.processes import ProcessTable
from llm_session_manager.core.similarity import merge_files, top_keywords
from llm_session_manager.core.sources import claude_forks
from llm_session_manager.core.sources.base import (
    FileAccumulator,
    TrackedFile,
    configured_roots,
    expand_root,
)
from llm_session_manager.core.sources.claude_lines import (
    to_datetime,
)
from llm_session_manager.core.sources.claude_records import (
    RECENT_ERRORS,
    ClaudeFileAccumulator,
)
from llm_session_manager.core.sources.claude_usage import session_usage
from llm_session_manager.core.sources.claude_windows import RecordedWindows, state_files
from llm_session_manager.core.sources.listing import ListingCache, is_dir, is_file

AGENT = "claude-code"
ROLE_MAIN = "main"
ROLE_SUBAGENT = "subagent"

if TYPE_CHECKING:
    from llm_session_manager.core.timeline import Timeline, TimelineBuilder


def default_config_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where Claude Code keeps its data, as ccusage finds it.

    `CLAUDE_CONFIG_DIR` (a comma-separated list; each entry the config dir or its `projects/`)
    replaces the defaults; otherwise both `~/.claude` and the XDG `claude` dir are read, since
    Claude Code has used both.
    """
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        dirs: list[Path] = []
        for entry in configured.split(","):
            text = entry.strip()
            if not text:
                continue
            path = expand_root(text, home)
            if path.name == "projects":
                path = path.parent
            if path not in dirs:
                dirs.append(path)
        return dirs
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    config_home = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return [home / ".claude", config_home / "claude"]


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> ClaudeCodeSource:
    """The source for the registry: configured config dirs (or their projects/), else defaults."""
    dirs = [d.parent if d.name == "projects" else d for d in configured_roots(agent_config, home)]
    dirs = dirs or default_config_dirs(env, home)
    return ClaudeCodeSource(
        dirs, count_tokens=count_tokens, state_files=state_files(dirs, env, home)
    )


class ClaudeCodeSource:
    agent = AGENT

    def __init__(
        self,
        config_dirs: Sequence[Path],
        count_tokens: Callable[[str], int] | None = None,
        state_files: Sequence[Path] = (),
    ) -> None:
        """`state_files`: the CLI's `.claude.json` files, read for the windows they record."""
        self._config_dirs = list(config_dirs)
        self._count_tokens = count_tokens
        self._recorded = RecordedWindows(state_files)
        # Listings kept while their folder's stat stays the same: a warm poll stats folders
        # instead of listing them (projects/, each project, each session folder, each
        # subagents/).
        self._projects: ListingCache[list[str]] = ListingCache(_subdirs, [])
        self._project_items: ListingCache[list[TrackedFile | str]] = ListingCache(
            _project_items, []
        )
        self._session_items: ListingCache[list[TrackedFile | str]] = ListingCache(
            _session_items, []
        )
        self._subagents: ListingCache[list[TrackedFile]] = ListingCache(_subagent_files, [])
        self._caches = (self._projects, self._project_items, self._session_items, self._subagents)

    def roots(self) -> list[Path]:
        return [d / "projects" for d in self._config_dirs]

    def outdated(self, sessions: Mapping[str, SessionFacts]) -> set[str]:
        """Sessions whose window the state file recorded since they were built (OutdatedFacts):
        the CLI writes it at exit, after the transcript's last line."""
        stale: set[str] = set()
        for sid in self._recorded.changed():
            facts = sessions.get(sid)
            if facts is None:
                continue
            window = self._recorded.window(sid, facts.model)
            if window is not None and window != facts.context.window:
                stale.add(sid)
        return stale

    def discover(self) -> list[TrackedFile]:
        found: list[TrackedFile] = []
        for root in self.roots():
            for project in self._projects.get(str(root)):
                for item in self._project_items.get(project):
                    if isinstance(item, TrackedFile):
                        found.append(item)
                        continue
                    # A session folder is stat'ed itself, so a transcript or a subagents/
                    # created in a known one is found at once (the project's mtime stays).
                    for inner in self._session_items.get(item):
                        if isinstance(inner, TrackedFile):
                            found.append(inner)
                        else:
                            found.extend(self._subagents.get(inner))
        for cache in self._caches:
            cache.prune()
        return found

    def new_accumulator(self, tracked: TrackedFile) -> ClaudeFileAccumulator:
        return ClaudeFileAccumulator(tracked.path, self._count_tokens)

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> ClaudeFileAccumulator:
        return ClaudeFileAccumulator.from_state(tracked.path, state, self._count_tokens)

    def build(
        self, key: SessionKey, files: Sequence[tuple[TrackedFile, FileAccumulator]]
    ) -> SessionFacts:
        return self._build(key, *_split(files))

    def reconcile(
        self, group: Sequence[tuple[SessionKey, Sequence[tuple[TrackedFile, FileAccumulator]]]]
    ) -> list[SessionFacts]:
        """Sessions of one lineage (SharedHistory): a forked session's file copies its parent's
        requests, billed once; each counts in the session that had it first, as ccusage's
        global de-duplication counts it once."""
        split = {key: _split(files) for key, files in group}
        owned = claude_forks.owners({key: mains + subs for key, (mains, subs) in split.items()})
        return [self._build(key, mains, subs, owned[key]) for key, (mains, subs) in split.items()]

    def _build(
        self,
        key: SessionKey,
        mains: list[ClaudeFileAccumulator],
        subagents: list[ClaudeFileAccumulator],
        owned: claude_forks.Owned | None = None,
    ) -> SessionFacts:
        # The main transcript first, so that on equal copies of a message the main one stays.
        everything = mains + subagents
        usage, by_model = session_usage(everything, owned)
        # The conversation the user sees is the main transcript's: its newest copy (a session
        # found under two config dirs) gives context, compactions and turn state.
        main = max(mains, key=lambda a: a.last_ts or 0.0) if mains else None
        model = _first(a.model for a in _newest_first(mains)) or _first(
            a.model for a in _newest_first(subagents)
        )
        # A session that ended after its last line gets the window its exit recorded when the
        # state file changes (`outdated` has it built again) or its files do.
        window = self._recorded.window(key.session_id, model)
        return SessionFacts(
            key=key,
            title=_title(mains, everything),
            first_prompt=_first(a.first_prompt for a in everything),
            cwd=_first(a.cwd for a in everything),
            git_branch=_first(a.git_branch for a in _newest_first(everything)),
            model=model,
            # The main transcript's newest copy names the CLI now writing the session.
            agent_version=_first(a.cli_version for a in _newest_first(mains))
            or _first(a.cli_version for a in _newest_first(subagents)),
            started_at=to_datetime(
                min((a.first_ts for a in everything if a.first_ts), default=None)
            ),
            last_activity_at=to_datetime(
                max((a.last_ts for a in everything if a.last_ts), default=None)
            ),
            usage=usage,
            by_model=by_model,
            context=_context(main, window),
            errors=_errors(everything),
            prompts=sum(a.prompts for a in mains),
            replies=len(set().union(*(a.reply_ids for a in mains))) if mains else 0,
            paths=tuple(a.path for a in everything),
            turn_hint=main.turn_hint if main is not None else None,
            pending_tool=(main.pending_tool or None) if main is not None else None,
            # Subagents' files count (they edit the same tree); their prompts are the model's.
            files_touched=merge_files(a.files for a in _oldest_first(everything)),
            keywords=top_keywords(a.words for a in mains),
            lineage=claude_forks.lineage(mains),
        )

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        # Imported here: the live mapping is its own module and not needed to read records.
        from llm_session_manager.core.live import claude_live

        # The facts let Claude versions that write no pid files be matched by cwd instead.
        return claude_live(self._config_dirs, processes, sessions)

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's conversation, streamed from its record files (ConversationReader)."""
        from llm_session_manager.core.sources.claude_conversation import read_conversation

        return read_conversation(facts.paths)

    def timeline_builder(self, facts: SessionFacts) -> TimelineBuilder:
        """Reads the session's transcripts into its token history (TimelineReader)."""
        from llm_session_manager.core.sources.claude_timeline import ClaudeTimelineBuilder

        return ClaudeTimelineBuilder(facts.paths, self._count_tokens)

    def timeline(self, facts: SessionFacts) -> Timeline:
        # Imported here: only a selected session's chart reads its history.
        from llm_session_manager.core.timeline import read_timeline

        return read_timeline(self.timeline_builder(facts))


# -- directory listing --------------------------------------------------------------------


def _subdirs(folder: str, listing: list[os.DirEntry[str]]) -> list[str]:
    return [e.path for e in listing if is_dir(e)]


# Folders in a project that are not session folders: auto-memory notes (formats.md §1.1).
_NOT_SESSIONS = frozenset({"memory"})


def _project_items(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile | str]:
    """A project's flat main transcripts (`<session id>.jsonl`) and the paths of its session
    folders (in listing order)."""
    items: list[TrackedFile | str] = []
    for entry in listing:
        if entry.name.endswith(".jsonl") and is_file(entry):
            items.append(TrackedFile(entry.path, entry.name[:-6], ROLE_MAIN))
        elif entry.name not in _NOT_SESSIONS and is_dir(entry):
            items.append(entry.path)
    return items


def _session_items(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile | str]:
    """A session folder's nested transcripts (the older layout: any `*.jsonl` directly in it is
    a transcript of the session the folder is named after) and the path of its subagents/.

    tool-results/ and workflows/ hold no transcripts and are not descended into."""
    session_id = os.path.basename(folder)
    items: list[TrackedFile | str] = []
    for entry in listing:
        if entry.name.endswith(".jsonl") and is_file(entry):
            # An `agent-*` name is how Claude Code names a subagent's transcript: kept as one, so
            # its sidechain lines never stand in for the main conversation's context and title.
            role = ROLE_SUBAGENT if entry.name.startswith("agent-") else ROLE_MAIN
            items.append(TrackedFile(entry.path, session_id, role))
        elif entry.name == "subagents" and is_dir(entry):
            items.append(entry.path)
    return items


def _subagent_files(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile]:
    # Only subagent transcripts count: journal.jsonl (lifecycle) and *.meta.json are not ones.
    session_id = os.path.basename(os.path.dirname(folder))
    return [
        TrackedFile(e.path, session_id, ROLE_SUBAGENT)
        for e in listing
        if e.name.startswith("agent-") and e.name.endswith(".jsonl") and is_file(e)
    ]


# -- merging a session's files ------------------------------------------------------------


def _split(
    files: Sequence[tuple[TrackedFile, FileAccumulator]],
) -> tuple[list[ClaudeFileAccumulator], list[ClaudeFileAccumulator]]:
    """A session's accumulators: its main transcripts' and its subagents', each by path."""
    mains: list[ClaudeFileAccumulator] = []
    subagents: list[ClaudeFileAccumulator] = []
    for tracked, acc in sorted(files, key=lambda pair: pair[0].path):
        if not isinstance(acc, ClaudeFileAccumulator):
            raise TypeError(f"not a Claude Code accumulator: {tracked.path}")
        (mains if tracked.role == ROLE_MAIN else subagents).append(acc)
    return mains, subagents


def _context(main: ClaudeFileAccumulator | None, recorded_window: int | None) -> Context:
    if main is None:
        return Context()
    return Context(
        tokens=main.context_tokens(),
        # Without a window the CLI recorded, accounting resolves it from the model table.
        window=recorded_window,
        window_source="unknown" if recorded_window is None else "record",
        compactions=main.compactions,
        last_pre_tokens=main.compact_pre,
        last_post_tokens=main.compact_post,
    )


def _errors(accs: Sequence[ClaudeFileAccumulator]) -> Errors:
    recent = sorted(ts for a in accs for ts in a.recent_errors)[-RECENT_ERRORS:]
    last: list[Any] | None = None
    for acc in accs:
        if acc.last_error is not None and (
            last is None or (acc.last_error[0] or 0.0) >= (last[0] or 0.0)
        ):
            last = acc.last_error
    return Errors(
        tool=sum(a.tool_errors for a in accs),
        api=sum(a.api_errors for a in accs),
        recent=tuple(d for d in (to_datetime(ts) for ts in recent) if d is not None),
        last_message=last[1] if last is not None else None,
    )


def _title(
    mains: Sequence[ClaudeFileAccumulator], everything: Sequence[ClaudeFileAccumulator]
) -> str | None:
    # A name the user gave (/rename) beats the CLI's generated one; the older `summary` line and
    # the first prompt are fallbacks.
    newest = _newest_first(mains)
    return (
        _first(a.custom_title for a in newest)
        or _first(a.ai_title for a in newest)
        or _first(a.summary for a in newest)
        or _first(a.first_prompt for a in everything)
    )


def _oldest_first(accs: Sequence[ClaudeFileAccumulator]) -> list[ClaudeFileAccumulator]:
    return sorted(accs, key=lambda a: a.last_ts or 0.0)


def _newest_first(accs: Sequence[ClaudeFileAccumulator]) -> list[ClaudeFileAccumulator]:
    return sorted(accs, key=lambda a: a.last_ts or 0.0, reverse=True)


def _first(values: Any) -> str | None:
    for value in values:
        if value:
            return str(value)
    return None
