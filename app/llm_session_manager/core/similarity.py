"""What makes two sessions alike: the files their tools touched and the words of their prompts.

The sources collect the evidence while they read (bounded, so memory follows a constant, not the
transcript), with the helpers here; `overlap()` compares two sessions for the "merge" advice.
Everything kept is plain lists and dicts, so the accumulators' dump/restore stays exact.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from llm_session_manager.core.models import SessionFacts

FILES_KEPT = 200  # most recent distinct paths per file accumulator and per session
WORDS_KEPT = 200  # counted words per accumulator; the rarest are dropped first
KEYWORDS_SHOWN = 30  # the session's keywords: the most frequent counted words
# A pasted log or file can be megabytes; the words that say what the task is come first.
PROMPT_CHARS_READ = 4000

_WORD = re.compile(r"[a-z][a-z0-9_]{2,39}")

# Words that say nothing about the task: English function words, the politeness and verbs of
# any request to a coding agent, and the markers the test clients put in prompts.
_STOP_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can cannot could did do does doing done down during each
    few for from further get gets got had has have having he her here hers him his how i if in
    into is it its itself just let lets like me more most must my myself no nor not now of off
    on once only or other our ours out over own please same she should so some such than that
    the their theirs them then there these they this those through to too under until up upon
    us very was we were what when where which while who whom why will with would you your yours
    yourself ok okay thanks thank hi hello hey sure yes yeah want need make use using used try
    see look check help tell show give take put run go going way thing things something anything
    everything still even well really actually maybe one two new now first last next again
    instead already able via per etc
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Claude Code tools whose input names a file, and the input keys that hold it.
FILE_TOOLS = frozenset({"Read", "Edit", "Write", "MultiEdit", "NotebookEdit"})
_FILE_KEYS = ("file_path", "notebook_path")


def note_file(files: list[str], path: str) -> None:
    """Remember `path` as the most recent file touched; keep FILES_KEPT distinct paths."""
    if path in files:
        files.remove(path)
    files.append(path)
    del files[:-FILES_KEPT]


def tool_file(name: object, tool_input: object) -> str | None:
    """The file a Claude Code tool call works on, or None for tools that name no file."""
    if name not in FILE_TOOLS or not isinstance(tool_input, dict):
        return None
    for key in _FILE_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def changed_paths(changes: object) -> list[str]:
    """Paths of a Codex patch: `{path: change}` (patch events) or `[{"path": ...}]` (items)."""
    if isinstance(changes, dict):
        return [p for p in changes if isinstance(p, str) and p]
    if isinstance(changes, list):
        return [
            c["path"] for c in changes
            if isinstance(c, dict) and isinstance(c.get("path"), str) and c["path"]
        ]
    return []


def prompt_words(text: str) -> list[str]:
    """The salient lowercase words of a prompt, in order, stop-words removed."""
    return [w for w in _WORD.findall(text[:PROMPT_CHARS_READ].lower()) if w not in STOP_WORDS]


def count_words(counts: dict[str, int], text: str) -> None:
    """Add a prompt's words to `counts`, then drop the rarest (oldest first) past WORDS_KEPT."""
    for word in prompt_words(text):
        counts[word] = counts.get(word, 0) + 1
    excess = len(counts) - WORDS_KEPT
    if excess > 0:
        # sorted() is stable: among equal counts the earliest-inserted word goes first.
        for word, _ in sorted(counts.items(), key=lambda item: item[1])[:excess]:
            del counts[word]


def merge_files(lists: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """One session's files from its accumulators' lists (later lists count as more recent)."""
    merged: list[str] = []
    for files in lists:
        for path in files:
            note_file(merged, path)
    return tuple(merged)


def top_keywords(tables: Iterable[Mapping[str, int]]) -> tuple[str, ...]:
    """The KEYWORDS_SHOWN most frequent words over `tables`; ties in alphabetical order."""
    total: dict[str, int] = {}
    for table in tables:
        for word, count in table.items():
            total[word] = total.get(word, 0) + count
    ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[:KEYWORDS_SHOWN])


@dataclass(frozen=True)
class Overlap:
    """The evidence that two sessions work on the same thing."""

    files: tuple[str, ...]
    keywords: tuple[str, ...]
    keyword_similarity: float  # Jaccard index of the two keyword sets, 0-1


def _absolute(path: str, cwd: str | None) -> str:
    # Codex names patched files relative to its cwd, Claude Code absolutely: compare both alike.
    if not os.path.isabs(path) and cwd:
        path = os.path.join(cwd, path)
    return os.path.normpath(path)


def overlap(a: SessionFacts, b: SessionFacts) -> Overlap:
    files_b = {_absolute(p, b.cwd) for p in b.files_touched}
    shared_files = sorted({p for p in (_absolute(f, a.cwd) for f in a.files_touched)
                           if p in files_b})
    words_a, words_b = set(a.keywords), set(b.keywords)
    union = words_a | words_b
    shared_words = sorted(words_a & words_b)
    similarity = len(shared_words) / len(union) if union else 0.0
    return Overlap(tuple(shared_files), tuple(shared_words), similarity)


def same_folder(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return os.path.normpath(a) == os.path.normpath(b)
