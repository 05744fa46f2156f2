"""Accounting: which window a session's context is measured against, and what its tokens cost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llm_session_manager.config import Config, Price
from llm_session_manager.core.accounting import apply, estimate_cost, resolve_context
from llm_session_manager.core.models import Context, ModelUsage, SessionFacts, SessionKey, Usage

MILLION = 1_000_000


def facts(
    agent: str = "claude-code",
    model: str | None = "claude-sonnet-4-5-20250929",
    context: Context | None = None,
    usage: Usage | None = None,
    by_model: tuple[ModelUsage, ...] = (),
) -> SessionFacts:
    return SessionFacts(
        key=SessionKey(agent, "s1"),
        model=model,
        context=context or Context(),
        usage=usage or Usage(),
        by_model=by_model,
    )


# --- context window -------------------------------------------------------------------------


def test_a_recorded_window_is_kept() -> None:
    recorded = Context(tokens=120_000, window=258_400, window_source="record")
    context = resolve_context(facts("codex", "gpt-5-codex", recorded), Config())
    assert context == recorded
    assert context.fill == pytest.approx(120_000 / 258_400)


def test_the_table_gives_the_window_of_a_known_model() -> None:
    context = resolve_context(facts(context=Context(tokens=50_000)), Config())
    assert (context.window, context.window_source) == (200_000, "table")
    assert context.fill == pytest.approx(0.25)


def test_an_unknown_model_gets_the_default_window() -> None:
    context = resolve_context(facts("opencode", "llama-3-70b", Context(tokens=10)), Config())
    assert (context.window, context.window_source) == (200_000, "table")
    config = replace(Config(), default_window=32_000)
    assert resolve_context(facts("opencode", "llama-3-70b"), config).window == 32_000


def test_a_claude_prompt_above_the_table_window_means_1m() -> None:
    context = resolve_context(facts(context=Context(tokens=350_000, compactions=1)), Config())
    assert (context.window, context.window_source) == (MILLION, "observed")
    assert context.compactions == 1  # the rest of the context is kept
    assert context.fill == pytest.approx(0.35)


def test_a_claude_code_session_without_a_model_is_treated_as_claude() -> None:
    context = resolve_context(facts(model=None, context=Context(tokens=250_000)), Config())
    assert (context.window, context.window_source) == (MILLION, "observed")


def test_a_non_claude_prompt_above_the_window_keeps_the_table_window() -> None:
    context = resolve_context(facts("opencode", "gpt-4o", Context(tokens=150_000)), Config())
    assert (context.window, context.window_source) == (128_000, "table")


def test_the_config_table_is_used() -> None:
    config = replace(Config(), model_windows=(("*sonnet*", 64_000),))
    context = resolve_context(facts(context=Context(tokens=32_000)), config)
    assert (context.window, context.window_source) == (64_000, "table")


def test_resolving_twice_gives_the_same_context() -> None:
    once = resolve_context(facts(context=Context(tokens=350_000)), Config())
    twice = resolve_context(facts(context=once), Config())
    assert once == twice


def test_apply_replaces_only_the_context() -> None:
    raw = facts(context=Context(tokens=20_000), usage=Usage(input=5))
    applied = apply(raw, Config())
    assert applied.context.window == 200_000
    assert replace(applied, context=raw.context) == raw


# --- cost -----------------------------------------------------------------------------------


def test_cost_applies_each_price_to_its_kind_of_token() -> None:
    usage = Usage(input=MILLION, output=MILLION, cache_creation=MILLION, cache_read=MILLION)
    # Sonnet 4.5 list prices: 3 input + 15 output + 3.75 cache write + 0.30 cache read
    assert estimate_cost(facts(usage=usage), Config()) == pytest.approx(22.05)


def test_reasoning_is_inside_output_and_not_billed_twice() -> None:
    usage = Usage(output=MILLION, reasoning=400_000)
    cost = estimate_cost(facts("codex", "gpt-5-codex", usage=usage), Config())
    assert cost == pytest.approx(10.0)


def test_cost_sums_over_the_models_a_session_used() -> None:
    by_model = (
        ModelUsage("claude-opus-4-5-20251101", Usage(input=MILLION, output=100_000)),
        ModelUsage("claude-haiku-4-5-20251001", Usage(input=2 * MILLION)),
    )
    cost = estimate_cost(facts(model="claude-opus-4-5-20251101", by_model=by_model), Config())
    assert cost == pytest.approx(5.0 + 2.5 + 2.0)


def test_unpriced_models_add_nothing_and_alone_give_none() -> None:
    mixed = (
        ModelUsage("claude-haiku-4-5-20251001", Usage(output=MILLION)),
        ModelUsage("mystery-model", Usage(output=MILLION)),
        ModelUsage("<synthetic>", Usage()),
    )
    assert estimate_cost(facts(by_model=mixed), Config()) == pytest.approx(5.0)
    unknown = (ModelUsage("mystery-model", Usage(output=MILLION)),)
    assert estimate_cost(facts(by_model=unknown), Config()) is None
    assert estimate_cost(facts(model=None, usage=Usage(output=MILLION)), Config()) is None


def test_priced_model_with_no_tokens_costs_nothing() -> None:
    assert estimate_cost(facts(), Config()) == 0.0


def test_the_config_price_table_is_used() -> None:
    config = replace(Config(), prices=(("*sonnet*", Price(1.0, 2.0, 0.0, 0.0)),))
    usage = Usage(input=MILLION, output=MILLION, cache_read=MILLION)
    assert estimate_cost(facts(usage=usage), config) == pytest.approx(3.0)


def test_gemini_3_sessions_from_the_real_cli_have_a_cost_estimate() -> None:
    from pathlib import Path

    from llm_session_manager.core.poller import Poller
    from llm_session_manager.core.processes import ProcessTable
    from llm_session_manager.core.sources.registry import build_sources

    home = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "home"
    config = Config()
    sessions = Poller(build_sources(config, {}, home), None, config,
                      scan_processes=ProcessTable).poll_once(advise=False).sessions  # fmt: skip
    gemini = [s for s in sessions if s.key.agent == "gemini" and s.facts.usage.total]
    assert gemini and all((s.facts.model or "").startswith("gemini-3") for s in gemini)
    for s in gemini:
        u = s.facts.usage
        want = (u.input * 2.0 + u.output * 12.0 + u.cache_creation * 2.0 + u.cache_read * 0.2) / 1e6
        assert s.cost_usd == pytest.approx(want)
