"""GitHub Copilot CLI: `<copilot home>/session-state/<session id>/events.jsonl` + `workspace.yaml`.

`<copilot home>` is `~/.copilot` on every OS (Windows: `%USERPROFILE%\\.copilot`), or
`$COPILOT_HOME` when set (it moves all of the CLI's state, copilot-cli issue #1954). Versions up to
0.0.421 honoured `$XDG_CONFIG_HOME/.copilot` and `$XDG_STATE_HOME/.copilot`; those are read too
when set. Older versions wrote a flat `session-state/<session id>.jsonl`, and older still used the
folder name `history-session-state/` (formats.md §4.2): the same events in the same two layouts
(splitrail reads both folders with one parser), so it is discovered the same way.

`workspace.yaml` (cwd, git branch, the session's name) is tracked as a file of its session with the
role "workspace": the poller's stat tells when it changed, so the session is rebuilt then, and the
source reads it itself (small, bounded, and only when its stat changed) because it is rewritten
whole rather than appended to. Events are read in `copilot_events.py`.
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
from llm_session_manager.core.sources.copilot_events import EventsAccumulator, Raw
from llm_session_manager.core.sources.iso_time import parse_time, parse_times
from llm_session_manager.core.sources.listing import ListingCache, is_file
from llm_session_manager.core.sources.stat_cache import StatCache
from llm_session_manager.core.sources.text import short_title

if TYPE_CHECKING:
    from llm_session_manager.core.timeline import Timeline, TimelineBuilder

WORKSPACE_BYTES = 64 << 10
# Where each Copilot home keeps session logs: the current name, then the older one.
STATE_DIRS = ("session-state", "history-session-state")


def default_copilot_homes(env: Mapping[str, str], home: Path) -> list[Path]:
    override = env.get("COPILOT_HOME", "").strip()
    if override:
        return [Path(override).expanduser()]
    homes = [home / ".copilot"]
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        value = env.get(name, "").strip()
        if value and (extra := Path(value).expanduser() / ".copilot") not in homes:
            homes.append(extra)
    return homes


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> CopilotCliSource:
    """The source for the registry: configured homes, else $COPILOT_HOME or ~/.copilot."""
    homes = configured_roots(agent_config, home) or default_copilot_homes(env, home)
    return CopilotCliSource(homes, count_tokens=count_tokens)


def to_usage(raw: Raw) -> Usage:
    """Copilot's inputTokens includes cache reads and writes; Usage keeps them apart."""
    inp, out, read, write = raw
    return Usage(input=max(inp - read - write, 0), output=out, cache_creation=write,
                 cache_read=read)


class WorkspaceMarker:
    """The accumulator of a `workspace.yaml`: its lines are not needed, only that it changed."""

    def feed(self, line: bytes) -> None:
        return None

    def dump(self) -> dict[str, Any]:
        return {"workspace": 1}


def _root_items(root: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile | str]:
    """session-state/ by name: each session folder's path, and each old-style `<id>.jsonl`."""
    items: list[TrackedFile | str] = []
    for entry in sorted(listing, key=lambda e: e.name):
        try:
            if entry.name.startswith("."):
                continue  # .session-operation-locks and the like
            if entry.is_dir(follow_symlinks=False):
                items.append(entry.path)
            elif entry.name.endswith(".jsonl") and entry.is_file():
                items.append(TrackedFile(entry.path, entry.name[: -len(".jsonl")], "main"))
        except OSError:
            continue
    return items


def _session_files(folder: str, is_file_named: Callable[[str], bool]) -> list[TrackedFile]:
    """events.jsonl, then workspace.yaml (only along with events.jsonl), when they are files."""
    if not is_file_named("events.jsonl"):
        return []
    session_id = os.path.basename(folder)
    found = [TrackedFile(os.path.join(folder, "events.jsonl"), session_id, "main")]
    if is_file_named("workspace.yaml"):
        found.append(TrackedFile(os.path.join(folder, "workspace.yaml"), session_id, "workspace"))
    return found


def _session_folder_files(folder: str, listing: list[os.DirEntry[str]]) -> list[TrackedFile]:
    names = {e.name: e for e in listing}
    return _session_files(folder, lambda name: name in names and is_file(names[name]))


def _probe_session_folder(folder: str) -> list[TrackedFile]:
    """The same, for a folder that can be searched but not listed: a stat per file."""
    return _session_files(folder, lambda name: os.path.isfile(os.path.join(folder, name)))


class CopilotCliSource:
    agent = "copilot-cli"

    def __init__(
        self, homes: Sequence[Path], count_tokens: Callable[[str], int] | None = None
    ) -> None:
        self._homes = list(homes)
        self._count_tokens = count_tokens
        self._workspaces: StatCache[dict[str, Any]] = StatCache()
        # Kept while a folder's stat stays the same: a warm poll stats each session folder
        # (whose mtime moves when events.jsonl or workspace.yaml appears or goes) instead of
        # probing both files in it.
        self._roots: ListingCache[list[TrackedFile | str]] = ListingCache(_root_items, [])
        self._folders: ListingCache[list[TrackedFile] | None] = ListingCache(
            _session_folder_files, None
        )

    def roots(self) -> Sequence[Path]:
        return [home / name for home in self._homes for name in STATE_DIRS]

    @property
    def homes(self) -> list[Path]:
        return list(self._homes)

    def discover(self) -> list[TrackedFile]:
        found: list[TrackedFile] = []
        for root in self.roots():
            for item in self._roots.get(str(root)):
                if not isinstance(item, str):
                    found.append(item)
                    continue
                files = self._folders.get(item)
                # A folder that cannot be listed may still let its files be stat'ed.
                found += files if files is not None else _probe_session_folder(item)
        self._roots.prune()
        self._folders.prune()
        return found

    def new_accumulator(self, tracked: TrackedFile) -> FileAccumulator:
        if tracked.role == "workspace":
            return WorkspaceMarker()
        return EventsAccumulator(self._count_tokens)

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> FileAccumulator:
        if tracked.role == "workspace":
            if state != {"workspace": 1}:
                raise ValueError("not a workspace marker state")
            return WorkspaceMarker()
        return EventsAccumulator.restore(state, self._count_tokens)

    def build(
        self, key: SessionKey, files: Sequence[tuple[TrackedFile, FileAccumulator]]
    ) -> SessionFacts:
        logs = [(t, a) for t, a in files if isinstance(a, EventsAccumulator)]
        if not logs:
            raise ValueError(f"no Copilot CLI events for {key}")
        _, acc = max(logs, key=lambda item: item[1].last_ts or "")
        workspace: dict[str, Any] = {}
        for t, _ in files:
            if t.role == "workspace":
                workspace = self._workspace(t.path) or {}
        usage, by_model = _usage_of(acc)
        tokens = acc.ctx_tokens if acc.calls else acc.shutdown_tokens
        context = Context(
            tokens=tokens,
            window=acc.ctx_window,
            window_source="record" if acc.ctx_window else "unknown",
            compactions=acc.compactions,
            last_pre_tokens=acc.last_pre,
            last_post_tokens=acc.last_post,
        )
        recent = parse_times(acc.recent_errors)
        errors = Errors(acc.tool_errors, acc.api_errors, recent, acc.last_error)
        name = _str(workspace.get("name")) or _str(workspace.get("summary"))
        title = name or (acc.first_prompt and short_title(acc.first_prompt)) or None
        return SessionFacts(
            key=key,
            title=short_title(title) if title else None,
            first_prompt=acc.first_prompt,
            cwd=_str(workspace.get("cwd")) or acc.cwd,
            git_branch=_str(workspace.get("branch")) or acc.branch,
            model=acc.model,
            agent_version=acc.cli_version,
            started_at=parse_time(acc.start_time) or parse_time(acc.first_ts),
            last_activity_at=parse_time(acc.last_ts),
            usage=usage,
            by_model=by_model,
            context=context,
            errors=errors,
            prompts=acc.prompts,
            replies=acc.replies,
            paths=tuple(t.path for t, _ in files),
            turn_hint=acc.turn_hint,
        )

    def _workspace(self, path: str) -> dict[str, Any] | None:
        """workspace.yaml as a mapping; read again only when its stat changed."""
        return self._workspaces.get(path, _read_workspace)

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's conversation, streamed from its events file (ConversationReader)."""
        from llm_session_manager.core.sources.copilot_conversation import read_conversation

        return read_conversation(facts.paths)

    def timeline_builder(self, facts: SessionFacts) -> TimelineBuilder:
        """Reads the session's events log into its token history (TimelineReader)."""
        from llm_session_manager.core.sources.copilot_timeline import (
            CopilotTimelineBuilder,
            events_logs,
        )
        from llm_session_manager.core.timeline import newest

        return CopilotTimelineBuilder(newest(events_logs(facts.paths)))

    def timeline(self, facts: SessionFacts) -> Timeline:
        # Imported here: only a selected session's chart reads its history.
        from llm_session_manager.core.timeline import read_timeline

        return read_timeline(self.timeline_builder(facts))

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live_copilot import copilot_live

        return copilot_live(self._homes, processes, sessions)


def _read_workspace(path: str, size: int) -> dict[str, Any] | None:
    if size > WORKSPACE_BYTES:
        return None
    # Imported here: the YAML parser costs start-up time, and only Copilot CLI users need it.
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, "rb") as handle:
            loaded = yaml.load(handle.read(WORKSPACE_BYTES), Loader=loader)
    except (OSError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _usage_of(acc: EventsAccumulator) -> tuple[Usage, tuple[ModelUsage, ...]]:
    """Per-call records when the log has them (exact). Else the totals of the latest shutdown
    (exact) plus the estimate of the turns after it: each turn is in one of the two, never both,
    and the sum is "counted" as soon as any turn is estimated."""
    if acc.calls:
        by_model = tuple(ModelUsage(m, to_usage(raw)) for m, raw in acc.by_model.items())
        return sum((m.usage for m in by_model), Usage()), by_model
    per_model = {m: to_usage(raw) for m, raw in acc.shutdown_by_model.items()}
    estimated = acc.estimate.turns > 0
    for model, usage in acc.estimate.usage_by_model().items():
        per_model[model] = per_model.get(model, Usage()) + usage
    total = Usage(source="counted" if estimated else "exact")
    for usage in per_model.values():
        total += usage
    return total, tuple(ModelUsage(m, u) for m, u in per_model.items())
