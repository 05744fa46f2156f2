"""A Gemini CLI session's timeline, read from its chat files.

The lines go through the same `ChatAccumulator` the poller uses, so a reply written twice under
one id counts once and a resumed session's replayed history adds nothing. The points are the
replies still in the conversation, at their own times: the session's usage so far (converted as
the facts convert it) and, for the main chat's replies, the prompt size as the context. A
sub-agent's replies add to the total at their times; its prompts are not the session's window,
so the context stays the main chat's latest. Replies a `$rewindTo` dropped were still billed but
their times are gone: their tokens join the last point, which is the session's total.

The main chat is chosen as the facts choose it: of a legacy `.json` and the `.jsonl` it was
migrated to, the one written last.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from llm_session_manager.core.sources.gemini_chat import ChatAccumulator
from llm_session_manager.core.sources.gemini_tokens import prompt_size, to_usage
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.timeline import PointLog, Timeline


def _is_legacy(path: str) -> bool:
    return path.endswith(".json")


def _is_subagent(path: str) -> bool:
    """chats/<parent session id>/<session id>.jsonl, where a main chat sits in chats/ itself."""
    return os.path.basename(os.path.dirname(os.path.dirname(path))) == "chats"


class GeminiTimelineBuilder:
    """A `TimelineBuilder` over a session's chat files."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = tuple(paths)
        self._accs = {p: ChatAccumulator(legacy=_is_legacy(p)) for p in self._paths}

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths

    def feed(self, path: str, line: bytes) -> None:
        self._accs[path].feed(line)

    def timeline(self) -> Timeline:
        mains = [(p, a) for p, a in self._accs.items() if not _is_subagent(p)]
        if not mains:
            return Timeline()
        _path, main = max(mains, key=lambda m: (m[1].last_ts or "", not _is_legacy(m[0])))
        subagents = [a for p, a in self._accs.items() if _is_subagent(p)]
        events: list[tuple[float, int, int | None]] = []  # (at, tokens, context or None)
        for acc in (main, *subagents):
            for entry in acc.msgs.values():
                raw = entry.get("k")
                moment = parse_time(entry.get("ts")) if entry["t"] == "g" else None
                if moment is not None and raw is not None:
                    own = prompt_size(raw) if acc is main else None
                    events.append((moment.timestamp(), to_usage(raw).total, own))
        rewound = sum(to_usage(raw).total for acc in (main, *subagents)
                      for raw in acc.rewound.values())  # fmt: skip
        events.sort(key=lambda event: event[0])
        log = PointLog()
        total, context = 0, None
        for index, (at, tokens, own) in enumerate(events):
            total += tokens + (rewound if index == len(events) - 1 else 0)
            context = own if own is not None else context
            log.add(at, total, context)
        return log.timeline()
