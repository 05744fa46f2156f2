"""The user's settings: a frozen `Config` with a default for everything, and its YAML file.

`load_config(path)` never raises for a bad file and never writes the user's file: it returns the
defaults for whatever it cannot use, plus a `Problem` (with file and line) for each thing it
skipped, so the CLI and the tray can show them. A reload builds a new `Config`; nothing mutates one.

The reading and checking lives in `config_load.py`, the commented file text in `config_text.py`,
and the shipped model tables in `config_defaults.py`; this module is the public face of all three.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

from llm_session_manager.config_defaults import (
    AGENT_NAMES,
    DEFAULT_MODEL_WINDOWS,
    DEFAULT_PRICES,
    DEFAULT_WINDOW,
)
from llm_session_manager.core.models import Problem
from llm_session_manager.core.quiet_hours import QuietHours

__all__ = [
    "AGENT_NAMES",
    "AgentConfig",
    "Config",
    "HealthConfig",
    "HealthWeights",
    "Price",
    "QuietHours",
    "RecommendConfig",
    "UiConfig",
    "UsageLimit",
    "config_to_dict",
    "default_config_text",
    "load_config",
    "write_default_config",
]

THEMES = ("auto", "light", "dark")
# The conditions core/notify.py can notify of, in the order the config lists them. "warning" is
# not one: a session recovering from critical passes through warning, and a popup then would
# announce an improvement as a problem; the tray's amber icon shows warnings.
NOTIFY_CONDITIONS = ("critical", "waiting")
_T = TypeVar("_T")


@dataclass(frozen=True)
class AgentConfig:
    """Empty `roots` means the agent's own default locations (and its env vars, e.g. CODEX_HOME)."""

    enabled: bool = True
    roots: tuple[str, ...] = ()

    def root_paths(self) -> tuple[Path, ...]:
        """The configured roots with `~` expanded (the file stays portable between users)."""
        return tuple(Path(root).expanduser() for root in self.roots)


@dataclass(frozen=True)
class Price:
    """USD per million tokens. Reasoning tokens are billed as output and are inside `output`."""

    input: float
    output: float
    cache_creation: float
    cache_read: float


@dataclass(frozen=True)
class HealthWeights:
    tokens: float = 0.40
    duration: float = 0.20
    activity: float = 0.20
    errors: float = 0.20

    @property
    def total(self) -> float:
        return self.tokens + self.duration + self.activity + self.errors


@dataclass(frozen=True)
class HealthConfig:
    """Weights and thresholds of the health score (core/health.py explains how each is used).

    A factor scores 100 at or below its `*_ok` value and 0 at or above its `*_bad` value, linearly
    in between.
    """

    weights: HealthWeights = HealthWeights()
    healthy_min: float = 70.0
    warning_min: float = 40.0
    # tokens: context fill as a fraction of the window; each compaction costs points ("context rot")
    fill_ok: float = 0.5
    fill_bad: float = 0.95
    compaction_penalty: float = 10.0
    # the score of a factor the records cannot tell (e.g. no context size): neither good nor bad
    unknown_score: float = 50.0
    # duration: session age
    duration_ok_hours: float = 2.0
    duration_bad_hours: float = 12.0
    # activity: time since the last record; a live idle/waiting session never drops below the floor
    stale_after_minutes: float = 60.0
    abandoned_after_hours: float = 24.0
    live_idle_floor: float = 50.0
    # errors: an error within recent_error_minutes counts recent_error_weight times
    errors_bad: float = 10.0
    recent_error_minutes: float = 30.0
    recent_error_weight: float = 3.0


@dataclass(frozen=True)
class UiConfig:
    theme: str = "auto"  # auto | light | dark
    show_ended: bool = False
    notifications: bool = True
    notify_cooldown_minutes: float = 30.0
    # which conditions of NOTIFY_CONDITIONS notify; the others are only shown by the tray
    notify_on: tuple[str, ...] = NOTIFY_CONDITIONS
    # no popup in this daily window (core/notify.py says what happens to what appears in it)
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class UsageLimit:
    """Tokens an agent's plan allows per window, for the run-out estimate; 0: no limit known."""

    five_hour_tokens: int = 0
    week_tokens: int = 0


def _default_limits() -> dict[str, UsageLimit]:
    return {name: UsageLimit() for name in AGENT_NAMES}


@dataclass(frozen=True)
class RecommendConfig:
    """When advice fires (core/recommend.py) and how usage windows are estimated."""

    # the same recommendation is not shown as new again within this many minutes
    cooldown_minutes: float = 60.0
    # an ended session still gets advice this long after its last record (it may be resumed)
    recent_minutes: float = 30.0
    # restart: critical health, or this fill after at least this many compactions
    restart_fill: float = 0.8
    restart_compactions: int = 2
    # merge: same folder and branch, and this many shared files, or this many shared prompt
    # keywords that are also this large a part of both sessions' keywords (Jaccard index), so
    # that the common words of one code base do not make every pair look alike
    merge_min_shared_files: int = 2
    merge_min_shared_keywords: int = 3
    merge_min_keyword_similarity: float = 0.25
    # usage windows: the burn rate is measured over the last this many minutes
    burn_minutes: float = 60.0
    limits: Mapping[str, UsageLimit] = field(default_factory=_default_limits)

    def limit(self, agent: str) -> UsageLimit:
        return self.limits.get(agent, UsageLimit())


def _default_agents() -> dict[str, AgentConfig]:
    return {name: AgentConfig() for name in AGENT_NAMES}


def _default_prices() -> tuple[tuple[str, Price], ...]:
    return tuple((pattern, Price(*values)) for pattern, values in DEFAULT_PRICES)


@dataclass(frozen=True)
class Config:
    poll_interval_s: float = 5.0
    # A plain dict typed read-only: MappingProxyType would break copy.deepcopy and asdict().
    agents: Mapping[str, AgentConfig] = field(default_factory=_default_agents)
    model_windows: tuple[tuple[str, int], ...] = DEFAULT_MODEL_WINDOWS
    default_window: int = DEFAULT_WINDOW
    prices: tuple[tuple[str, Price], ...] = field(default_factory=_default_prices)
    health: HealthConfig = HealthConfig()
    idle_timeout_minutes: float = 30.0
    history_days: float = 30.0  # usage samples older than this are pruned
    max_line_mb: int = 16
    daily_spend_warning_usd: float = 20.0
    fill_warnings: tuple[float, ...] = (0.70, 0.85)
    recommend: RecommendConfig = field(default_factory=RecommendConfig)
    ui: UiConfig = UiConfig()

    def agent(self, name: str) -> AgentConfig:
        return self.agents.get(name, AgentConfig())

    def window_for(self, model: str | None) -> int | None:
        """The table's window for `model`; None when there is no model or no pattern matches."""
        return _first_match(self.model_windows, model)

    def price_for(self, model: str | None) -> Price | None:
        return _first_match(self.prices, model)


# Every poll asks the same few models once per session, and fnmatch over the table each time
# showed in profiles. Answers are kept per table object (held here, so its id stays its own);
# hashing the table itself on every lookup cost nearly as much as the matching.
_MATCHES: dict[int, tuple[tuple[tuple[str, Any], ...], dict[str, Any]]] = {}
_MAX_TABLES = 16


def _first_match(table: tuple[tuple[str, _T], ...], model: str | None) -> _T | None:
    if not model:
        return None
    entry = _MATCHES.get(id(table))
    if entry is None or entry[0] is not table:
        if len(_MATCHES) >= _MAX_TABLES:  # config reloads: forget the old tables
            _MATCHES.clear()
        entry = _MATCHES[id(table)] = (table, {})
    answers = entry[1]
    if model not in answers:
        name = model.strip().lower()
        answers[model] = next(
            (value for pattern, value in table if fnmatchcase(name, pattern.lower())), None
        )
    found: _T | None = answers[model]
    return found


def load_config(path: Path) -> tuple[Config, list[Problem]]:
    """Read `path`; a missing file gives the defaults and no problem. Never raises for content."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(), []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Config(), [
            Problem(str(path), f"cannot read the config file ({reason}); using defaults")
        ]
    # Imported only for a file to read: the YAML parser is a tenth of the CLI's start-up.
    from llm_session_manager.config_load import load_config_text

    return load_config_text(text, str(path))


def default_config_text() -> str:
    """A commented YAML file with every key at its default: what `init-config` writes."""
    from llm_session_manager.config_text import render_config

    return render_config(Config())


def config_to_dict(config: Config) -> dict[str, Any]:
    """Plain dicts, lists and scalars (YAML- and JSON-dumpable), in the file's key order."""
    return {
        "poll_interval_s": config.poll_interval_s,
        "idle_timeout_minutes": config.idle_timeout_minutes,
        "history_days": config.history_days,
        "max_line_mb": config.max_line_mb,
        "daily_spend_warning_usd": config.daily_spend_warning_usd,
        "fill_warnings": list(config.fill_warnings),
        "agents": {
            name: {"enabled": agent.enabled, "roots": list(agent.roots)}
            for name, agent in config.agents.items()
        },
        "default_window": config.default_window,
        "model_windows": dict(config.model_windows),
        "prices": {
            pattern: {
                "input": price.input,
                "output": price.output,
                "cache_creation": price.cache_creation,
                "cache_read": price.cache_read,
            }
            for pattern, price in config.prices
        },
        "health": {
            "weights": {
                "tokens": config.health.weights.tokens,
                "duration": config.health.weights.duration,
                "activity": config.health.weights.activity,
                "errors": config.health.weights.errors,
            },
            **{
                name: getattr(config.health, name)
                for name in HealthConfig.__dataclass_fields__
                if name != "weights"
            },
        },
        "recommend": {
            **{
                name: getattr(config.recommend, name)
                for name in RecommendConfig.__dataclass_fields__
                if name != "limits"
            },
            "limits": {
                agent: {
                    "five_hour_tokens": limit.five_hour_tokens,
                    "week_tokens": limit.week_tokens,
                }
                for agent, limit in config.recommend.limits.items()
            },
        },
        "ui": {
            **{name: getattr(config.ui, name) for name in UiConfig.__dataclass_fields__},
            "notify_on": list(config.ui.notify_on),
            "quiet_hours": config.ui.quiet_hours.text if config.ui.quiet_hours else None,
        },
    }


def write_default_config(path: Path, force: bool = False) -> None:
    """Write the commented defaults to `path` atomically; refuse to replace a file unless `force`.

    Raises FileExistsError when the file exists and `force` is False, OSError when it cannot write.
    """
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass force=True to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Temp file in the same directory so os.replace is an atomic rename on one filesystem.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(default_config_text())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
