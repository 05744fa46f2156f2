"""The shipped tables: agent names, context windows per model and list prices per model.

Kept apart from `config.py` so that updating a price or a window is a data change in one place.
Patterns are shell globs (`fnmatch`), matched case-insensitively against the model name *in order*;
the first match wins, so specific patterns come before the family catch-alls. A leading `*` lets a
pattern match provider prefixes (`anthropic/claude-...`, `us.anthropic.claude-...`), and `[-.]`
accepts both spellings of a version (`claude-sonnet-4-5` in Claude Code, `claude-sonnet-4.5` in
Copilot).
"""

from __future__ import annotations

AGENT_NAMES: tuple[str, ...] = (
    "claude-code",
    "codex",
    "cursor",
    "copilot-vscode",
    "copilot-cli",
    "gemini",
    "opencode",
)

# Windows are *input* limits: what the fill percentage is measured against.
DEFAULT_MODEL_WINDOWS: tuple[tuple[str, int], ...] = (
    # Claude Code marks the 1M window with a "[1m]" suffix (`--model sonnet[1m]`). In a glob "[1m]"
    # would be a character class, so the brackets are spelled as one-character classes.
    ("*[[]1m[]]", 1_000_000),
    # Native 1M windows (formats.md §1.6): Opus from 4.7 and Sonnet from 4.6 on, and the families
    # after 4. A single digit after "4-" is a minor version; a dated id ("claude-opus-4-20250514")
    # has "2" there, so it stays with the 200k catch-all below.
    ("*claude-opus-4[-.][7-9]*", 1_000_000),
    ("*claude-sonnet-4[-.][6-9]*", 1_000_000),
    ("*claude-opus-[5-9]*", 1_000_000),
    ("*claude-sonnet-[5-9]*", 1_000_000),
    # Everything else in the Claude 4.x and 3.x families (Opus 4-4.6, Sonnet 4/4.5, Haiku 4.5) is
    # 200k unless the 1M beta is on; an observed prompt above 200k switches to 1M in accounting
    # (window_source "observed"). Haiku stays here: no Haiku is documented with 1M, and a window
    # taken too small is corrected by that observation while one taken too large never is.
    ("*claude-opus-4*", 200_000),
    ("*claude-sonnet-4*", 200_000),
    ("*claude-haiku-4*", 200_000),
    ("*claude-3*", 200_000),
    ("*claude*", 200_000),
    # OpenAI: GPT-5 family takes 272k input (400k total with output); Codex records its own window.
    ("*gpt-5*", 272_000),
    ("*codex-mini*", 200_000),
    ("*gpt-4.1*", 1_047_576),
    ("*gpt-4o*", 128_000),
    ("o3*", 200_000),
    ("o4-mini*", 200_000),
    # Gemini CLI's tokenLimit(): 1.5 Pro has 2M, the rest 1,048,576.
    ("*gemini-1.5-pro*", 2_097_152),
    ("*gemini*", 1_048_576),
)

DEFAULT_WINDOW = 200_000  # ccusage's default when the model is unknown (formats.md §1.5)

# Public list prices in USD per million tokens: (input, output, cache_creation, cache_read).
# Estimates: long-context surcharges (Sonnet > 200k prompts, Gemini Pro > 200k), batch discounts,
# 1-hour cache writes and subscription plans are not modelled. Usage.input is *uncached* input, so
# OpenAI's and Gemini's cached-input price goes in cache_read and cache_creation equals input (they
# charge no cache write on top).
DEFAULT_PRICES: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    # Anthropic: cache write (5 min) = 1.25 x input, cache read = 0.1 x input.
    ("*claude-opus-4[-.][5-9]*", (5.0, 25.0, 6.25, 0.5)),
    ("*claude-opus-4*", (15.0, 75.0, 18.75, 1.5)),
    ("*claude-3-opus*", (15.0, 75.0, 18.75, 1.5)),
    ("*claude-sonnet-4*", (3.0, 15.0, 3.75, 0.3)),
    ("*claude-3[-.]7-sonnet*", (3.0, 15.0, 3.75, 0.3)),
    ("*claude-3[-.]5-sonnet*", (3.0, 15.0, 3.75, 0.3)),
    ("*claude-haiku-4*", (1.0, 5.0, 1.25, 0.1)),
    ("*claude-3[-.]5-haiku*", (0.8, 4.0, 1.0, 0.08)),
    # OpenAI GPT-5 / 5.1 and their Codex variants: cached input is 0.1 x input.
    ("*gpt-5*codex-mini*", (0.25, 2.0, 0.25, 0.025)),
    ("*gpt-5-mini*", (0.25, 2.0, 0.25, 0.025)),
    ("*gpt-5-nano*", (0.05, 0.4, 0.05, 0.005)),
    ("*gpt-5.1*", (1.25, 10.0, 1.25, 0.125)),
    ("*gpt-5-codex*", (1.25, 10.0, 1.25, 0.125)),
    ("gpt-5", (1.25, 10.0, 1.25, 0.125)),
    ("gpt-5-20*", (1.25, 10.0, 1.25, 0.125)),
    # Google Gemini 3 (preview list prices, prompts up to 200k) and 2.5.
    ("*gemini-3*flash*", (0.5, 3.0, 0.5, 0.05)),
    ("*gemini-3*pro*", (2.0, 12.0, 2.0, 0.2)),
    ("*gemini-2.5-flash-lite*", (0.1, 0.4, 0.1, 0.01)),
    ("*gemini-2.5-flash*", (0.3, 2.5, 0.3, 0.03)),
    ("*gemini-2.5-pro*", (1.25, 10.0, 1.25, 0.125)),
)
