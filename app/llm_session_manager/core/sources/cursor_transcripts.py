"""Cursor agent transcripts as sessions: the cursor-agent CLI's, and the IDE agent's chats that
its database does not hold (formats.md §3.2).

The Cursor source is a snapshot source (its databases are re-read when they change), and the
transcripts are read through it: the poller stats every listed transcript and hands the changed
ones to the source. They are append-only, so each one is tailed (`core.tail`) from the byte where
the last read stopped, its complete lines fed to its accumulator; a half-written last line waits
for the next change. Cursors and accumulators live as long as the process: after a restart a
transcript that changed is read again from its first byte (an unchanged one costs a stat).

A conversation is its main transcript plus its subagents' ones, which count toward it. When
one of its files changed, a file of it not read yet in this process (a subagent's, after a
restart) is read too, so the facts always come from all of them. Times come from the files' mtimes
(the records have none), the start from the first prompt's `<timestamp>` tag when it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from llm_session_manager.core.models import (
    Context,
    Errors,
    Problem,
    SessionFacts,
    SessionKey,
    Usage,
)
from llm_session_manager.core.similarity import merge_files, top_keywords
from llm_session_manager.core.sources.base import TrackedFile
from llm_session_manager.core.sources.cursor_slug import SlugResolver
from llm_session_manager.core.sources.cursor_transcript_files import (
    ROLE_MAIN,
    TranscriptFinder,
    transcript_slug,
)
from llm_session_manager.core.sources.cursor_transcript_lines import TranscriptAccumulator
from llm_session_manager.core.sources.editor_dirs import dot_cursor
from llm_session_manager.core.sources.text import short_title
from llm_session_manager.core.sources.text_tokens import TextCounter
from llm_session_manager.core.tail import (
    DEFAULT_MAX_LINE_BYTES,
    Cursor,
    FileStat,
    read_appended,
)

AGENT = "cursor"


def default_transcript_roots(
    env: Mapping[str, str], home: Path, platform: str | None = None
) -> list[Path]:
    """`~/.cursor/projects` (`dot_cursor`)."""
    return [dot_cursor(env, home, platform) / "projects"]


@dataclass
class _File:
    tracked: TrackedFile
    cursor: Cursor
    acc: TranscriptAccumulator


@dataclass
class TranscriptRead:
    facts: list[SessionFacts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    bytes_read: int = 0


# Whether the IDE's database holds a conversation: True (its record wins), False, or None when
# that cannot be told now (the database is busy): the transcript is offered again next poll.
HeldElsewhere = Callable[[str], bool | None]


class Transcripts:
    def __init__(
        self,
        roots: Sequence[Path],
        count_tokens: Callable[[str], int] | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        slugs: SlugResolver | None = None,
    ) -> None:
        self._roots = list(roots)
        # One counter for the process: a tokenizer that cannot be loaded stays unusable.
        self._counter = TextCounter(count_tokens)
        self._max_line = max_line_bytes
        self._slugs = slugs or SlugResolver()
        self._finder = TranscriptFinder()
        self._listed: dict[str, TrackedFile] = {}
        self._by_session: dict[str, list[TrackedFile]] = {}
        self._files: dict[str, _File] = {}

    def roots(self) -> list[Path]:
        return list(self._roots)

    def watched(self) -> list[str]:
        found = self._finder.find(self._roots)
        self._listed = {t.path: t for t in found}
        self._by_session = {}
        for tracked in found:
            self._by_session.setdefault(tracked.session_id, []).append(tracked)
        for path in [p for p in self._files if p not in self._listed]:
            del self._files[path]  # deleted, or no longer the conversation's chosen file
        return list(self._listed)

    def owns(self, path: str) -> bool:
        return path in self._listed

    def read(
        self, changed: Iterable[str], held: HeldElsewhere, folders: Iterable[str] = ()
    ) -> TranscriptRead:
        """The facts of the conversations whose transcripts changed, but of those `held`
        elsewhere; `folders` are workspace folders known from the IDE, for the slugs."""
        out = TranscriptRead()
        touched: dict[str, list[str]] = {}
        for path in changed:
            tracked = self._listed.get(path)
            if tracked is not None:
                touched.setdefault(tracked.session_id, []).append(path)
        known = list(folders)
        for session_id, paths in touched.items():
            verdict = held(session_id)
            if verdict is None:
                out.retry += paths
                continue
            if verdict:
                continue  # the IDE's record of it is the one shown: never listed twice
            members = self._by_session.get(session_id, [])
            for tracked in members:
                if tracked.path in paths or tracked.path not in self._files:
                    out.bytes_read += self._tail(tracked, out.problems)
            facts = self._build(session_id, members, known)
            if facts is not None:
                out.facts.append(facts)
        if self._counter.failure:
            out.problems.append(Problem(AGENT, self._counter.failure))
        return out

    def _tail(self, tracked: TrackedFile, problems: list[Problem]) -> int:
        path = tracked.path
        try:
            stat = FileStat.of(path)
        except OSError as exc:
            problems.append(Problem(path, exc.strerror or str(exc)))
            return 0
        state = self._files.get(path)
        if state is None or state.cursor.must_restart(stat):
            acc = TranscriptAccumulator(path.endswith(".txt"), self._counter)
            state = self._files[path] = _File(tracked, Cursor(), acc)
        if state.cursor.unchanged(stat):
            return 0
        try:
            result = read_appended(path, state.cursor, stat, state.acc.feed,
                                   max_line_bytes=self._max_line)  # fmt: skip
        except OSError as exc:
            problems.append(Problem(path, exc.strerror or str(exc)))
            return 0
        for bad in result.bad_lines:
            problems.append(Problem(f"{path}:{bad.line_number}", bad.message))
        hidden = result.bad_line_count - len(result.bad_lines)
        if hidden > 0:
            problems.append(Problem(path, "more bad lines skipped", hidden))
        state.cursor = result.cursor
        return result.bytes_read

    def _build(
        self, session_id: str, members: Sequence[TrackedFile], known: Sequence[str]
    ) -> SessionFacts | None:
        files = [self._files[t.path] for t in members if t.path in self._files]
        mains = [f for f in files if f.tracked.role == ROLE_MAIN]
        if not mains or not (mains[0].acc.prompts or mains[0].acc.replies):
            return None  # a subagent's file alone, or a transcript with no message yet
        main = mains[0]
        subagents = [f for f in files if f.tracked.role != ROLE_MAIN]
        everything = [main, *subagents]
        accs = [f.acc for f in everything]
        # A file whose read failed has no stat yet: it tells no time.
        mtimes = [_mtime(f.cursor) for f in everything if f.cursor.mtime_ns]
        started = main.acc.started
        first_mtime = min(mtimes, default=None)
        slug = transcript_slug(main.tracked.path)
        prompt = main.acc.prompt
        usage = Usage(input=sum(a.input for a in accs), output=sum(a.output for a in accs),
                      source="counted")  # fmt: skip
        return SessionFacts(
            key=SessionKey(AGENT, session_id),
            title=short_title(prompt) if prompt else None,
            first_prompt=prompt,
            cwd=self._slugs.resolve(slug, known) if slug else None,
            started_at=datetime.fromtimestamp(started, UTC) if started else first_mtime,
            last_activity_at=max(mtimes, default=None),
            usage=usage,
            context=Context(),  # no prompt size is recorded: the fill cannot be known
            errors=Errors(
                tool=sum(a.tool_errors for a in accs),
                api=sum(a.api_errors for a in accs),
                last_message=next((a.last_error for a in accs if a.last_error), None),
            ),
            prompts=main.acc.prompts,
            replies=main.acc.replies,
            paths=tuple(f.tracked.path for f in everything),
            turn_hint=main.acc.turn_hint,
            files_touched=merge_files(a.files for a in accs),
            keywords=top_keywords([main.acc.words]),
        )


def _mtime(cursor: Cursor) -> datetime:
    return datetime.fromtimestamp(cursor.mtime_ns / 1e9, UTC)
