"""The commented YAML that `init-config` writes: every key, its default and what it does.

Rendered from `config_to_dict(Config())` rather than kept as a hand-written file, so the text can
never drift from the defaults (a test loads it back and compares it with `Config()`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from llm_session_manager.config import Config, config_to_dict

_HEADER = """\
# LLM Session Manager settings.
# Every key is optional: a key you delete takes the default shown here, and a key the app does not
# know is reported and ignored. A value that cannot be used is reported and its default is used.
"""

_COMMENTS: dict[str, str] = {
    "poll_interval_s": "Seconds between two reads of the agents' records.",
    "idle_timeout_minutes": (
        "A live session with no new record for this long counts as idle: closing it is advised."
    ),
    "history_days": (
        "Days of token and context history kept for the charts and usage windows (7 at least)."
    ),
    "max_line_mb": "Longer record lines are skipped (and reported) instead of read into memory.",
    "daily_spend_warning_usd": "Warn when the estimated spend of one day passes this amount.",
    "fill_warnings": "Context fill fractions that trigger a token warning, lowest first.",
    "agents": (
        "Which agents to watch. roots: [] means the agent's own default places (CLAUDE_CONFIG_DIR\n"
        "and CODEX_HOME are honoured); list folders to look elsewhere, ~ is allowed."
    ),
    "default_window": "Context window (tokens) for a model that model_windows does not know.",
    "model_windows": (
        "Context window per model: glob patterns matched in order against the model name, first\n"
        "match wins. Your patterns come first; shipped patterns you leave out are still used\n"
        'after yours. "*[[]1m[]]" matches Claude Code\'s "[1m]" model suffix (brackets in a glob\n'
        "are a character class, so each literal bracket is written as a one-character class)."
    ),
    "prices": (
        "Estimated list prices in USD per million tokens, glob patterns as for model_windows.\n"
        "Reasoning tokens are billed as output. A missing cache price is the input price.\n"
        "These are estimates: long-context surcharges, batch discounts and plans are not modelled."
    ),
    "health": (
        "The health score (0-100) is a weighted sum of four factor scores. A factor scores 100 at\n"
        "or below its *_ok value and 0 at or above its *_bad value, linearly in between."
    ),
    "health.weights": "Factor weights; they should add up to 1 (otherwise they are scaled to 1).",
    "health.healthy_min": "Scores at or above this are healthy.",
    "health.warning_min": "Scores from this up to healthy_min are a warning; below: critical.",
    "health.fill_ok": "tokens: context fill (fraction of the window) that still scores 100.",
    "health.fill_bad": "tokens: context fill that scores 0.",
    "health.compaction_penalty": "tokens: points off for each compaction (context rot).",
    "health.unknown_score": "Score of a factor the records cannot tell (e.g. no context size).",
    "health.duration_ok_hours": "duration: session age that still scores 100.",
    "health.duration_bad_hours": "duration: session age that scores 0.",
    "health.stale_after_minutes": "activity: time since the last record that still scores 100.",
    "health.abandoned_after_hours": "activity: time since the last record that scores 0.",
    "health.live_idle_floor": "activity: lowest score of a live session idle or waiting for you.",
    "health.errors_bad": "errors: weighted error count that scores 0.",
    "health.recent_error_minutes": "errors: an error this recent counts recent_error_weight times.",
    "health.recent_error_weight": "errors: how much more a recent error counts.",
    "recommend": (
        "Advice (the recommend command and the window's advice list). Usage windows are\n"
        "estimates from local records: they are not the provider's own accounting."
    ),
    "recommend.cooldown_minutes": "The same advice is not shown as new again within this time.",
    "recommend.recent_minutes": (
        "An ended session still gets advice this long after its last record (it may be resumed)."
    ),
    "recommend.restart_fill": "Advise a restart at this context fill after restart_compactions.",
    "recommend.restart_compactions": "Compactions that, with restart_fill, call for a restart.",
    "recommend.merge_min_shared_files": (
        "Sessions in one folder and branch that touched this many of the same files are similar."
    ),
    "recommend.merge_min_shared_keywords": "... or whose prompts share this many salient words,",
    "recommend.merge_min_keyword_similarity": (
        "... that are at least this share (0-1) of the two sessions' keywords together."
    ),
    "recommend.burn_minutes": "The burn rate (tokens per hour) is measured over this many minutes.",
    "recommend.limits": (
        "Tokens your plan allows per agent in a rolling 5-hour window and in 7 days, for the\n"
        "run-out estimate. 0 means no limit known (no projection)."
    ),
    "ui": "The tray and window.",
    "ui.theme": "auto | light | dark",
    "ui.show_ended": (
        "Whether the window opens with \"show ended\" ticked: ended sessions listed with the live\n"
        "ones. Off: only live (and imported) sessions, ended ones one click away."
    ),
    "ui.notifications": "Desktop notifications; false: none (the tray icon still shows the state).",
    "ui.notify_cooldown_minutes": "Minutes between two notifications about one session.",
    "ui.notify_on": (
        "What notifies: critical (a live session's health turned critical) and waiting (it asks\n"
        "for you: a permission prompt, a question). [] notifies of nothing. A warning never\n"
        "notifies (the tray icon turns amber): a session recovering from critical passes by it."
    ),
    "ui.quiet_hours": (
        'No popups in this daily window of local time, e.g. "22:00-07:00" (it may run over\n'
        "midnight); null: none. A session still critical or waiting when it ends is notified\n"
        "then, once; what came and went during it is not."
    ),
}

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        # PyYAML reads a float only with a dot in it ("1e-05" would come back as a string).
        return f"{mantissa}.0e{exponent}" if exponent and "." not in mantissa else text
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid double-quoted YAML scalar
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if isinstance(value, dict):  # one-line flow mapping (used for the rows of the price table)
        return "{" + ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {value!r}")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else json.dumps(key)


def _emit(lines: list[str], path: str, key: str, value: Any, indent: int, flow_rows: bool) -> None:
    pad = " " * indent
    comment = _COMMENTS.get(path)
    if comment:
        if indent == 0:
            lines.append("")
        lines.extend(f"{pad}# {line}" for line in comment.splitlines())
    if isinstance(value, dict) and value and not flow_rows:
        lines.append(f"{pad}{_key(key)}:")
        for sub_key, sub_value in value.items():
            # The price table's rows are short mappings: one line each reads like a table.
            _emit(lines, f"{path}.{sub_key}", sub_key, sub_value, indent + 2, path == "prices")
    else:
        lines.append(f"{pad}{_key(key)}: {_scalar(value)}")


def render_config(config: Config) -> str:
    lines = _HEADER.rstrip("\n").splitlines()
    for key, value in config_to_dict(config).items():
        _emit(lines, key, key, value, 0, False)
    return "\n".join(lines) + "\n"
