"""Gemini's per-reply token summary, in our `Usage` convention.

Gemini CLI records `tokens = {input, output, cached, thoughts, tool, total}` per reply, from the
API's `usageMetadata` (prompt, candidates, cachedContent, thoughts, toolUsePrompt, total). The
prompt count *includes* the cached part (the real 0.61 records and the mock that billed them agree:
`total = input + output + thoughts + tool`). ccusage checks the same identity and, when `total`
says `input` excludes `cached`, takes `input` as it is; so do we.

Mapping (the same split as ccusage's, so totals compare):
* input = input - cached (+ tool: tool-use prompt tokens are prompt tokens too);
* cache_read = cached;
* output = output + thoughts, reasoning = thoughts. Gemini bills thinking as output, and our
  `Usage` counts reasoning inside output (as Codex does), so `Usage.total` equals Gemini's own
  `total`. ccusage shows `output` without thoughts but adds them to its total and its cost, so
  our output column is its output plus thoughts and every total and cost agree.
"""

from __future__ import annotations

from typing import Any

from llm_session_manager.core.models import Usage

Raw = list[int]
RAW_KEYS = ("input", "output", "cached", "thoughts", "tool", "total")


def raw_tokens(value: Any) -> Raw | None:
    """`[input, output, cached, thoughts, tool, total]`; None when `value` is no token summary."""
    if not isinstance(value, dict):
        return None
    raw = [v if isinstance(v := value.get(k), int) and v >= 0 else 0 for k in RAW_KEYS]
    return raw if any(raw) else None


def uncached_input(raw: Raw) -> int:
    inp, out, cached, thoughts, tool, total = raw
    inclusive = inp + out + thoughts + tool
    if cached and total == inclusive:
        return max(inp - cached, 0)
    if cached and total == inclusive + cached:
        return inp
    return max(inp - cached, 0)  # no total to tell: the API's own definition includes cached


def prompt_size(raw: Raw) -> int:
    """The whole prompt of that request, cached part included: what was in the window."""
    return uncached_input(raw) + raw[2]


def to_usage(raw: Raw) -> Usage:
    _, out, cached, thoughts, tool, _ = raw
    return Usage(
        input=uncached_input(raw) + tool,
        output=out + thoughts,
        cache_read=cached,
        reasoning=thoughts,
    )
