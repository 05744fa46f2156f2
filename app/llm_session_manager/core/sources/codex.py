"""OpenAI Codex CLI: rollouts under `$CODEX_HOME/{sessions,archived_sessions}`.

One thread is one file, `rollout-<YYYY-MM-DDThh-mm-ss>-<thread uuid>.jsonl`; `codex resume`
appends to the same file. `sessions/` is nested by start date (`YYYY/MM/DD`), `archived_sessions/`
is flat and receives a rollout after `codex archive`. Lines are read in `codex_rollout.py`, token
arithmetic is in `codex_tokens.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
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
from llm_session_manager.core.similarity import top_keywords
from llm_session_manager.core.sources.base import (
    FileAccumulator,
    TrackedFile,
    configured_roots,
)
from llm_session_manager.core.sources.codex_rollout import UNKNOWN_MODEL, RolloutAccumulator
from llm_session_manager.core.sources.codex_tokens import Raw
from llm_session_manager.core.sources.iso_time import parse_time, parse_times
from llm_session_manager.core.sources.listing import ListingCache
from llm_session_manager.core.sources.text import short_title

# sessions/YYYY/MM/DD/: deeper folders are not Codex's, and a bound keeps a stray symlink loop
# from costing a walk.
MAX_SESSION_DEPTH = 4
_ROLLOUT = re.compile(
    r"^rollout-.+-(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{12})\.jsonl$"
)

if TYPE_CHECKING:
    from llm_session_manager.core.timeline import Timeline, TimelineBuilder


def default_codex_homes(env: Mapping[str, str], home: Path) -> list[Path]:
    """$CODEX_HOME (a comma-separated list is accepted, as ccusage does) else ~/.codex."""
    value = env.get("CODEX_HOME", "").strip()
    homes = [Path(part.strip()).expanduser() for part in value.split(",") if part.strip()]
    return homes or [home / ".codex"]


def to_usage(raw: Raw) -> Usage:
    """Codex counts cached input inside input; Usage keeps them apart (ccusage's convention)."""
    inp, cached, out, reasoning = raw
    cached = min(cached, inp)
    return Usage(input=inp - cached, output=out, cache_read=cached, reasoning=reasoning)


_Rollout = tuple[str, str, str]  # (file name, thread id, path)


def _folder_items(folder: str, listing: list[os.DirEntry[str]]) -> tuple[list[str], list[_Rollout]]:
    """A folder's subfolders (not links to folders) and rollouts, for `_rollouts`."""
    subfolders: list[str] = []
    rollouts: list[_Rollout] = []
    for entry in listing:
        try:
            if entry.is_dir(follow_symlinks=False):
                subfolders.append(entry.path)
            elif (match := _ROLLOUT.match(entry.name)) and entry.is_file():
                rollouts.append((entry.name, match.group("uuid").lower(), entry.path))
        except OSError:
            continue
    return subfolders, rollouts


def create(
    agent_config: AgentConfig,
    env: Mapping[str, str],
    home: Path,
    count_tokens: Callable[[str], int] | None = None,
) -> CodexSource:
    """The source for the registry: configured Codex homes, else $CODEX_HOME or ~/.codex."""
    homes = configured_roots(agent_config, home) or default_codex_homes(env, home)
    return CodexSource(homes, count_tokens=count_tokens)


class CodexSource:
    agent = "codex"

    def __init__(
        self, homes: Sequence[Path], count_tokens: Callable[[str], int] | None = None
    ) -> None:
        self._homes = list(homes)
        self._count_tokens = count_tokens
        # Kept while a folder's stat stays the same: a warm poll stats the date folders.
        self._folders: ListingCache[tuple[list[str], list[_Rollout]]] = ListingCache(
            _folder_items, ([], [])
        )

    def roots(self) -> Sequence[Path]:
        return [root for home in self._homes
                for root in (home / "sessions", home / "archived_sessions")]

    def discover(self) -> list[TrackedFile]:
        found: list[TrackedFile] = []
        for home in self._homes:
            active = sorted(self._rollouts(str(home / "sessions"), MAX_SESSION_DEPTH))
            names = {name for name, _, _ in active}
            found += [TrackedFile(path, thread, "main") for _, thread, path in active]
            # An archived copy whose name is still in sessions/ is the same thread: skip it.
            for name, thread, path in sorted(self._rollouts(str(home / "archived_sessions"), 0)):
                if name not in names:
                    found.append(TrackedFile(path, thread, "archived"))
        self._folders.prune()
        return found

    def _rollouts(self, folder: str, depth: int) -> Iterator[_Rollout]:
        """The rollouts under `folder`, `depth` folders deep (in no particular order)."""
        subfolders, rollouts = self._folders.get(folder)
        yield from rollouts
        if depth > 0:
            for sub in subfolders:
                yield from self._rollouts(sub, depth - 1)

    def new_accumulator(self, tracked: TrackedFile) -> FileAccumulator:
        return RolloutAccumulator(self._count_tokens)

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> FileAccumulator:
        return RolloutAccumulator.restore(state, self._count_tokens)

    def build(
        self, key: SessionKey, files: Sequence[tuple[TrackedFile, FileAccumulator]]
    ) -> SessionFacts:
        rollouts = [(t, a) for t, a in files if isinstance(a, RolloutAccumulator)]
        if not rollouts:
            raise ValueError(f"no Codex rollout for {key}")
        # Files of one thread are copies of one history (e.g. a rollout under two homes), so
        # the facts come from the newest copy, never from a sum of them.
        _, acc = max(rollouts, key=lambda item: (parse_time(item[1].last_ts) or _EPOCH,
                                                  item[0].role == "main"))
        usage, by_model = _usage_of(acc)
        window = acc.ctx_window or acc.task_window
        context = Context(
            tokens=acc.ctx_tokens,
            window=window,
            window_source="record" if window else "unknown",
            compactions=acc.compactions,
            last_pre_tokens=acc.last_pre,
            last_post_tokens=acc.last_post,
        )
        recent = parse_times(acc.recent_errors)
        errors = Errors(acc.tool_errors, acc.api_errors, recent, acc.last_error)
        title = acc.thread_name or (short_title(acc.first_prompt) if acc.first_prompt else None)
        return SessionFacts(
            key=key,
            title=title,
            first_prompt=acc.first_prompt,
            cwd=acc.cwd or acc.meta_cwd,
            git_branch=acc.git_branch,
            model=acc.model or _latest_known(by_model),
            agent_version=acc.cli_version,
            started_at=parse_time(acc.started_at) or parse_time(acc.first_ts),
            last_activity_at=parse_time(acc.last_ts),
            usage=usage,
            by_model=by_model,
            context=context,
            errors=errors,
            prompts=acc.prompts,
            replies=acc.replies,
            paths=tuple(t.path for t, _ in rollouts),
            turn_hint=acc.turn_hint,
            files_touched=tuple(acc.files_touched),
            keywords=top_keywords([acc.prompt_words]),
        )

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        from llm_session_manager.core.live import codex_live

        return codex_live(self._homes, processes, sessions)

    def conversation(self, facts: SessionFacts) -> Conversation:
        """The session's conversation, streamed from its record files (ConversationReader)."""
        from llm_session_manager.core.sources.codex_conversation import read_conversation

        return read_conversation(facts.paths)

    def timeline_builder(self, facts: SessionFacts) -> TimelineBuilder:
        """Reads the thread's newest rollout into its token history (TimelineReader)."""
        from llm_session_manager.core.sources.codex_timeline import CodexTimelineBuilder
        from llm_session_manager.core.timeline import newest

        return CodexTimelineBuilder(newest(facts.paths))

    def timeline(self, facts: SessionFacts) -> Timeline:
        # Imported here: only a selected session's chart reads its history.
        from llm_session_manager.core.timeline import read_timeline

        return read_timeline(self.timeline_builder(facts))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _usage_of(acc: RolloutAccumulator) -> tuple[Usage, tuple[ModelUsage, ...]]:
    acc.flush_counts()
    if acc.tokens.seen:
        by_model = tuple(ModelUsage(m, to_usage(raw)) for m, raw in acc.tokens.by_model.items())
        return to_usage(acc.tokens.counted), by_model
    if acc.counted_input or acc.counted_output:
        # No token_count in the file (older Codex or a file cut short): tiktoken over the text.
        counted = Usage(input=acc.counted_input, output=acc.counted_output, source="counted")
        return counted, ((ModelUsage(acc.model, counted),) if acc.model else ())
    return Usage(), ()


def _latest_known(by_model: tuple[ModelUsage, ...]) -> str | None:
    names = [m.model for m in by_model if m.model != UNKNOWN_MODEL]
    return names[-1] if names else None
