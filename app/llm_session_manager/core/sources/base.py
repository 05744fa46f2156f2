"""The one protocol every agent's source implements.

A source only knows its agent's files and processes. The poller owns the loop: it asks the source
which files exist (`discover`, a directory listing), tails each changed file through
`core.tail` and feeds complete lines to that file's accumulator, then asks the source to `build`
the facts of each session whose files changed. Accumulators are plain state that can be dumped
to JSON and restored, so a restart resumes from the persisted byte offsets instead of re-reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from llm_session_manager.config import AgentConfig
from llm_session_manager.core.conversation import Conversation
from llm_session_manager.core.models import LiveState, Problem, SessionFacts, SessionKey
from llm_session_manager.core.processes import ProcessTable

if TYPE_CHECKING:
    from llm_session_manager.core.timeline import Timeline, TimelineBuilder


@dataclass(frozen=True)
class TrackedFile:
    """One file that belongs to one session. `role` lets a source tell its files apart."""

    path: str
    session_id: str
    role: str = "main"  # "main" | "subagent" | whatever the source needs


class FileAccumulator(Protocol):
    def feed(self, line: bytes) -> None:
        """Take one complete line (without its newline). Raise ValueError for a bad line."""

    def dump(self) -> dict[str, Any]:
        """JSON-able state; `Source.restore` gives back an equal accumulator."""


class Source(Protocol):
    agent: str

    def roots(self) -> Sequence[Path]:
        """The directories this source reads (existing or not), for `info`."""

    def discover(self) -> list[TrackedFile]:
        """Every record file now present. Must be cheap: directory listings, no reads."""

    def new_accumulator(self, tracked: TrackedFile) -> FileAccumulator: ...

    def restore(self, tracked: TrackedFile, state: dict[str, Any]) -> FileAccumulator: ...

    def build(
        self, key: SessionKey, files: Sequence[tuple[TrackedFile, FileAccumulator]]
    ) -> SessionFacts:
        """The session's facts from all of its files' accumulators (deduplicated here)."""

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]:
        """Live state of sessions that have a process, keyed by session id; absent = ended."""


@dataclass(frozen=True)
class SnapshotRead:
    """What a snapshot source found in the files that changed.

    `retry` lists files that could not be read right now (e.g. a database busy with the agent's
    own write): the poller keeps their old stat so they are read again on the next poll.
    `bytes_read` counts what was read of files read incrementally (appended lines), for the
    poll's statistics; a database read whole is not counted.
    """

    facts: tuple[SessionFacts, ...] = ()
    problems: tuple[Problem, ...] = ()
    retry: tuple[str, ...] = ()
    bytes_read: int = 0


@runtime_checkable
class SnapshotSource(Protocol):
    """A source whose records are databases or whole documents rather than appended lines
    (Cursor's state.vscdb, opencode's database, Copilot Chat's session JSON).

    The poller stats `watched()` files every poll and calls `read()` with the ones that changed;
    the source opens them read-only and returns the facts of every session found in them.
    """

    agent: str

    def roots(self) -> Sequence[Path]: ...

    def watched(self) -> list[str]:
        """Files whose change means re-reading. Must be cheap: directory listings, no reads."""

    def read(self, changed: Sequence[str]) -> SnapshotRead: ...

    def live(
        self, processes: ProcessTable, sessions: Mapping[str, SessionFacts]
    ) -> dict[str, LiveState]: ...


@runtime_checkable
class OutdatedFacts(Protocol):
    """Optional for a line source whose facts also depend on a file outside the sessions' own
    (Claude Code's state file): which of `sessions` (by id) must be built again now, though
    none of their files changed."""

    agent: str

    def outdated(self, sessions: Mapping[str, SessionFacts]) -> set[str]: ...


@runtime_checkable
class SharedHistory(Protocol):
    """Optional for a line source whose sessions can be copies of one history (a forked Claude
    Code session): the facts of a group of sessions with the same `SessionFacts.lineage`, each
    counting the requests they share once."""

    agent: str

    def reconcile(
        self, group: Sequence[tuple[SessionKey, Sequence[tuple[TrackedFile, FileAccumulator]]]]
    ) -> list[SessionFacts]: ...


@runtime_checkable
class ConversationReader(Protocol):
    """Optional for a source: reads a session's conversation (for exports and briefs).

    Streams the record files named in `facts.paths`, read-only and with bounded memory.
    """

    def conversation(self, facts: SessionFacts) -> Conversation: ...


@runtime_checkable
class TimelineReader(Protocol):
    """Optional for a source: a session's token history from its own records (the details
    chart), from its first request on rather than from when the app started watching.

    `timeline_builder` gives an incremental reader of the files in `facts.paths` (the poller
    thread keeps it and feeds it appended lines); `timeline` streams them once, read-only.
    """

    def timeline_builder(self, facts: SessionFacts) -> TimelineBuilder: ...

    def timeline(self, facts: SessionFacts) -> Timeline: ...


def expand_root(root: str, home: Path) -> Path:
    """A configured root, with `~` meaning the home the app was started for."""
    if root == "~" or root.startswith(("~/", "~\\")):
        return home / root[2:]
    return Path(root)


def configured_roots(agent_config: AgentConfig, home: Path) -> list[Path]:
    """The roots the user configured for an agent, `~` expanded; [] means the agent's defaults."""
    return [expand_root(r, home) for r in agent_config.roots]
