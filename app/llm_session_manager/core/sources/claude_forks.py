"""Claude Code sessions that share a history: a request billed once counts once (formats.md §1.4).

`claude --resume <id> --fork-session` (seen with the real Claude Code 2.1.197) writes a new
session file that starts with a verbatim copy of the parent's lines: the same message ids,
request ids, uuids and timestamps, under the new session id. ccusage de-duplicates requests
across all files, so a copied request counts once; summing the sessions here counted it in both,
and a fork of a long session showed (and added to today's tokens) the whole history again.

- `lineage`: a session's earliest main-thread request; a fork and its parent share it.
- `owners`: within one lineage, each request (and each counted reply of a record without usage)
  belongs to the session that had it first: the one that started first. A fork copies its
  parent's first times too, so on a tie the session whose last activity is earlier owns it (the
  parent's copy was taken before the fork ran on), then the session id, so the answer never
  depends on the order the files were read in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import inf

from llm_session_manager.core.models import SessionKey
from llm_session_manager.core.sources.claude_lines import UsageEntry, merged_usage
from llm_session_manager.core.sources.claude_records import ClaudeFileAccumulator

RequestKey = tuple[str, "str | None"]  # (message id, request id)


@dataclass(frozen=True)
class Owned:
    """What of a session's requests another session of its lineage had first."""

    elsewhere: frozenset[RequestKey] = frozenset()
    counted_elsewhere: frozenset[str] = frozenset()

    def mine(self, table: dict[str, list[UsageEntry]]) -> dict[str, list[UsageEntry]]:
        if not self.elsewhere:
            return table
        out: dict[str, list[UsageEntry]] = {}
        for message_id, copies in table.items():
            kept = [e for e in copies if (message_id, e.request_id) not in self.elsewhere]
            if kept:
                out[message_id] = kept
        return out

    def has(self, line_key: str) -> bool:
        return line_key not in self.counted_elsewhere


def lineage(mains: Sequence[ClaudeFileAccumulator]) -> str | None:
    """The key of the earliest main-thread request (the same in a fork as in its parent)."""
    best: tuple[float, str, str] | None = None
    for acc in mains:
        for message_id, copies in acc.usage.items():
            for entry in copies:
                if entry.sidechain or entry.ts is None:
                    continue
                candidate = (entry.ts, message_id, entry.request_id or "")
                if best is None or candidate < best:
                    best = candidate
    return None if best is None else f"{best[1]}/{best[2]}"


def owners(
    sessions: Mapping[SessionKey, Sequence[ClaudeFileAccumulator]],
) -> dict[SessionKey, Owned]:
    """Per session of one lineage, the requests it does not own (see the module's rule)."""
    seen: set[RequestKey] = set()
    seen_counted: set[str] = set()
    out: dict[SessionKey, Owned] = {}
    for key in sorted(sessions, key=lambda k: _rank(k, sessions[k])):
        accs = sessions[key]
        table = merged_usage([acc.usage for acc in accs])
        requests = {(mid, e.request_id) for mid, copies in table.items() for e in copies}
        counted = {line for acc in accs for line in acc.counted}
        out[key] = Owned(frozenset(requests & seen), frozenset(counted & seen_counted))
        seen |= requests
        seen_counted |= counted
    return out


def _rank(key: SessionKey, accs: Sequence[ClaudeFileAccumulator]) -> tuple[float, float, str]:
    first = min((a.first_ts for a in accs if a.first_ts is not None), default=inf)
    last = max((a.last_ts for a in accs if a.last_ts is not None), default=inf)
    return first, last, key.session_id
