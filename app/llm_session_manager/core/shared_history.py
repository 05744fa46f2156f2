"""Sessions that are copies of one history, built again together so that what they share counts
once (a forked Claude Code session copies its parent's requests; `claude_forks.py`).

A source that can tell (SharedHistory) gives each session a `lineage`. When a session changed,
every other session of its lineage is built with it from their files' accumulators (restored from
the store where they are not in memory), and the source decides which session each shared request
belongs to. Imported sessions are never part of a group: their facts are the ones imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from llm_session_manager.core.file_index import FileIndex
from llm_session_manager.core.models import Problem, SessionFacts, SessionKey
from llm_session_manager.core.sources.base import SharedHistory, Source


def reconcile(
    source: SharedHistory,
    line_source: Source,
    index: FileIndex,
    facts: Mapping[SessionKey, SessionFacts],
    changed: Set[SessionKey],
    imported: Set[SessionKey],
    problems: list[Problem],
) -> dict[SessionKey, SessionFacts]:
    """The facts of every session in a lineage with more than one session, one of which is in
    `changed`."""
    agent = source.agent
    lineages = {facts[k].lineage for k in changed - imported
                if k.agent == agent and k in facts} - {None}  # fmt: skip
    if not lineages:
        return {}
    groups: dict[str, list[SessionKey]] = {}
    for key, known in facts.items():
        line = known.lineage
        if line is not None and line in lineages and key.agent == agent and key not in imported:
            groups.setdefault(line, []).append(key)
    built: dict[SessionKey, SessionFacts] = {}
    for keys in groups.values():
        if len(keys) < 2:
            continue
        members = index.members(set(keys))
        group = [(k, index.accumulators(line_source, members[k], problems))
                 for k in sorted(keys) if members.get(k)]  # fmt: skip
        if len(group) < 2:
            continue  # the others' files are gone: nothing left to compare with
        try:
            found = source.reconcile(group)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(agent, f"cannot compare forked sessions: {exc}"))
            continue
        built.update((f.key, f) for f in found)
    return built
