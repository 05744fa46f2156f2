"""A Codex thread's timeline, read from its rollout.

The lines go through the same `RolloutAccumulator` the poller uses, so the numbers are the
facts' own: after each `token_count` event the point is the session's usage so far (the
`TokenLedger`'s cumulative total, counter restarts and a sub-agent's replayed parent history
accounted for, converted as `codex.to_usage` converts it) and `last_token_usage` as the context.
A compaction is what the accumulator counts as one (a `compacted` line, an `event_msg`
`context_compacted` or a `response_item` `compaction`; the several lines one compaction may be
written as count once).

A thread's files are copies of one history: the newest is read, as for its conversation.
"""

from __future__ import annotations

from llm_session_manager.core.sources.codex import to_usage
from llm_session_manager.core.sources.codex_rollout import RolloutAccumulator
from llm_session_manager.core.sources.iso_time import parse_time
from llm_session_manager.core.timeline import OneFileTimeline


class CodexTimelineBuilder(OneFileTimeline):
    """A `TimelineBuilder` over one rollout."""

    def __init__(self, path: str | None) -> None:
        super().__init__(path)
        # No token counter: text is only counted for rollouts with no token_count at all,
        # and those have no timeline to draw.
        self._acc = RolloutAccumulator()

    def feed(self, path: str, line: bytes) -> None:
        acc = self._acc
        ledger = acc.tokens
        counted, compactions, replay = ledger.counted, acc.compactions, ledger.replay
        acc.feed(line)
        if replay == "maybe" and ledger.replay == "active":
            # The sub-agent's first count was its parent's history after all (the ledger has
            # just dropped it): so is the point drawn from it.
            self._log.clear()
        compacted = acc.compactions > compactions
        # The ledger replaces its cumulative list on every count it takes; a replayed count
        # leaves it as it was.
        new_count = ledger.counted is not counted and ledger.replay != "active"
        if not (compacted or new_count):
            return
        moment = parse_time(acc.last_ts)
        if moment is None:
            return
        total = to_usage(ledger.counted).total
        if compacted:
            # The context after it is only known from the next token count.
            self._log.add_compaction(moment.timestamp(), total, None)
        else:
            self._log.add(moment.timestamp(), total, acc.ctx_tokens)
