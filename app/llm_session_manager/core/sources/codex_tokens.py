"""A Codex session's token usage, from the cumulative totals of its `token_count` events.

Codex writes `info.total_token_usage` (cumulative for the thread) and `info.last_token_usage`
(the latest API call) after every response. The session's usage is the latest cumulative total,
with two corrections:

* a total smaller than the one before means the counter started again (a process that did not
  restore it); what the earlier run counted is carried over, so no call is lost or counted twice;
* a sub-agent rollout starts by replaying its parent's token counts (formats.md 2.3); those are
  the parent's usage, so the sub-agent's own usage is measured from the last replayed total.

Counters are in Codex's convention, `[input (incl. cached), cached, output (incl. reasoning),
reasoning]`. Per-model usage is the growth of the total while that model was current.
"""

from __future__ import annotations

from typing import Any

Raw = list[int]
RAW_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def zero() -> Raw:
    return [0, 0, 0, 0]


def raw_usage(usage: Any) -> Raw | None:
    """`[input, cached, output, reasoning]` of a TokenUsage object; None when it is not one."""
    if not isinstance(usage, dict):
        return None
    return [v if isinstance(v := usage.get(k), int) else 0 for k in RAW_KEYS]


class TokenLedger:
    def __init__(self) -> None:
        self.seen = False  # any token_count with a total
        self.prev_total: Raw | None = None
        self.base: Raw = zero()  # where the current run of the cumulative counter started
        self.carried: Raw = zero()  # what earlier runs counted
        self.counted: Raw = zero()  # the session's usage so far
        self.by_model: dict[str, Raw] = {}
        self.subagent = False
        self.replay = "start"  # start | maybe | active | done
        self.replay_second: str | None = None

    def dump(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "prev_total": None if self.prev_total is None else list(self.prev_total),
            "base": list(self.base),
            "carried": list(self.carried),
            "counted": list(self.counted),
            "by_model": {m: list(r) for m, r in self.by_model.items()},
            "subagent": self.subagent,
            "replay": self.replay,
            "replay_second": self.replay_second,
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> TokenLedger:
        ledger = cls()
        ledger.seen = bool(state["seen"])
        ledger.prev_total = None if state["prev_total"] is None else _raw4(state["prev_total"])
        ledger.base = _raw4(state["base"])
        ledger.carried = _raw4(state["carried"])
        ledger.counted = _raw4(state["counted"])
        ledger.by_model = {str(m): _raw4(r) for m, r in dict(state["by_model"]).items()}
        ledger.subagent = bool(state["subagent"])
        ledger.replay = str(state["replay"])
        second = state["replay_second"]
        ledger.replay_second = None if second is None else str(second)
        return ledger

    def add(self, total: Raw, ts: str | None, model: str) -> None:
        """Take one cumulative total, seen at `ts` while `model` was current."""
        if self._replayed(total, ts):
            return
        prev = self.prev_total
        if prev is not None and any(t < p for t, p in zip(total, prev, strict=True)):
            runs = zip(self.carried, prev, self.base, strict=True)
            self.carried = [c + p - b for c, p, b in runs]
            self.base = zero()
        self.prev_total = total
        self.seen = True
        now = [c + t - b for c, t, b in zip(self.carried, total, self.base, strict=True)]
        delta = [n - c for n, c in zip(now, self.counted, strict=True)]
        self.counted = now
        if any(delta):
            held = self.by_model.get(model, zero())
            self.by_model[model] = [h + d for h, d in zip(held, delta, strict=True)]

    def _replayed(self, total: Raw, ts: str | None) -> bool:
        """True for a token count that is the parent's history, replayed by a sub-agent.

        ccusage's rule: when a sub-agent rollout's first two token counts share one second,
        every leading token count of that second is replay. The first count is taken as the
        sub-agent's own until the second one says otherwise.
        """
        if not self.subagent or self.replay == "done":
            return False
        second = ts[:19] if ts else None
        if self.replay == "start":
            self.replay, self.replay_second = "maybe", second
            return False
        if second is not None and second == self.replay_second:
            if self.replay == "maybe":  # confirmed: the count taken first was replay as well
                self.carried, self.counted, self.by_model = zero(), zero(), {}
                self.replay = "active"
            self.base = total
            self.prev_total = total
            return True
        self.replay = "done"
        return False


def _raw4(value: Any) -> Raw:
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"not a token counter: {value!r}")
    return list(value)
