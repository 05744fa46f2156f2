"""What a session's numbers mean: the size of its context window, and what its tokens cost.

Sources report what the records say; this module adds what the config knows (the window table and
the price table). Both are pure functions of the facts and the config.
"""

from __future__ import annotations

from dataclasses import replace

from llm_session_manager.config import Config
from llm_session_manager.core.models import Context, SessionFacts, Usage

# Claude's larger window. A Claude prompt above the table's window can only mean this one: the
# transcript's model id never says 1M for Sonnet 4/4.5 with the beta (formats.md §1.6).
CLAUDE_LARGE_WINDOW = 1_000_000


def _is_claude(facts: SessionFacts) -> bool:
    model = (facts.model or "").lower()
    return "claude" in model or (not model and facts.key.agent == "claude-code")


def resolve_context(facts: SessionFacts, config: Config) -> Context:
    """The context with its window filled in, and `window_source` saying where the window came from.

    A window the agent recorded (Codex's `model_context_window`) wins. Otherwise the config's model
    table, else its `default_window`; both are "table". A Claude prompt larger than that window
    means the 1M window ("observed").
    """
    context = facts.context
    if context.window and context.window_source == "record":
        return context
    if context.window and context.window_source == "unknown":
        # A source that set a window without saying where from: it read it from the record.
        return replace(context, window_source="record")
    window = config.window_for(facts.model) or config.default_window
    if context.tokens is not None and context.tokens > window and _is_claude(facts):
        return replace(context, window=max(CLAUDE_LARGE_WINDOW, window), window_source="observed")
    return replace(context, window=window, window_source="table")


def _models_used(facts: SessionFacts) -> list[tuple[str | None, Usage]]:
    if facts.by_model:
        return [(entry.model, entry.usage) for entry in facts.by_model]
    return [(facts.model, facts.usage)]


def estimate_cost(facts: SessionFacts, config: Config) -> float | None:
    """Estimated USD from the price table: each model's tokens at that model's prices.

    None when no used model has a price. Models without a price add nothing, so a session that
    mixes priced and unpriced models gets a partial (lower) estimate; an unpriced entry with no
    tokens (Claude Code's "<synthetic>" replies) changes nothing.
    """
    total = 0.0
    priced = False
    for model, usage in _models_used(facts):
        price = config.price_for(model)
        if price is None:
            continue
        priced = True
        total += (
            usage.input * price.input
            + usage.output * price.output  # reasoning is a part of output, billed as output
            + usage.cache_creation * price.cache_creation
            + usage.cache_read * price.cache_read
        ) / 1_000_000
    return total if priced else None


def apply(facts: SessionFacts, config: Config) -> SessionFacts:
    """The facts with their context window resolved."""
    return replace(facts, context=resolve_context(facts, config))
