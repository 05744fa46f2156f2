"""A Claude Code session's usage from its files' accumulators: each request once (streamed repeats
and copies in several files merged), summed per model; replies recorded without usage counted.
A fork's requests that another session of its lineage owns are left out (`claude_forks.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llm_session_manager.core.models import ModelUsage, Usage, UsageSource
from llm_session_manager.core.sources.claude_forks import Owned
from llm_session_manager.core.sources.claude_lines import SYNTHETIC_MODEL, merged_usage
from llm_session_manager.core.sources.claude_records import ClaudeFileAccumulator


def session_usage(
    accs: Sequence[ClaudeFileAccumulator], owned: Owned | None = None
) -> tuple[Usage, tuple[ModelUsage, ...]]:
    table = merged_usage([acc.usage for acc in accs])
    counted: dict[str, list[Any]] = {}
    for acc in accs:
        counted.update(acc.counted)
    if owned is not None:  # a fork: the requests another session of its lineage had first go
        table, counted = owned.mine(table), {k: v for k, v in counted.items() if owned.has(k)}
    # Plain sums per model, made into Usage values once: a session has thousands of requests.
    sums: dict[str | None, list[int]] = {}
    for copies in table.values():
        for e in copies:
            into = sums.get(e.model)
            if into is None:
                into = sums[e.model] = [0, 0, 0, 0]
            into[0] += e.input
            into[1] += e.output
            into[2] += e.cache_creation
            into[3] += e.cache_read
    counted_by_model: dict[str | None, int] = {}
    for tokens, model, _ts in counted.values():
        counted_by_model[model] = counted_by_model.get(model, 0) + tokens
    source: UsageSource = "counted" if counted else "exact"
    total = Usage(source=source)
    per_model: dict[str, Usage] = {}
    for model, (inp, out, creation, read) in sums.items():
        usage = Usage(inp, out, creation, read)
        total += usage
        if model and model != SYNTHETIC_MODEL:
            per_model[model] = usage
    for model, tokens in counted_by_model.items():
        usage = Usage(output=tokens, source="counted")
        total += usage
        if model:
            per_model[model] = per_model.get(model, Usage()) + usage
    by_model = tuple(ModelUsage(m, u) for m, u in sorted(per_model.items()))
    return total, by_model
