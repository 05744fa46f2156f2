"""Check a config file key by key: what is wrong falls back to its default, with a Problem.

One bad value must not cost the user the rest of the file, so every key is checked on its own and
each problem names its key path and, from the YAML node marks, its line. Unknown keys and weights
that do not add up are warnings (the message starts with "warning:"): the value is still usable.

Model windows and prices merge with the shipped tables: the user's patterns are matched first, the
shipped patterns the user did not mention follow, so a file written by an older version still knows
the newer models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

import yaml

from llm_session_manager.config import (
    AGENT_NAMES,
    THEMES,
    AgentConfig,
    Config,
    HealthConfig,
    HealthWeights,
    Price,
    RecommendConfig,
    UiConfig,
    UsageLimit,
)
from llm_session_manager.config_notify import Describe, read_notify_on, read_quiet_hours
from llm_session_manager.core.models import Problem

Keys = tuple[str, ...]
_D = TypeVar("_D")
_V = TypeVar("_V")

# Allowed ranges by key path: (lowest, highest or None, lowest itself excluded). Others: >= 0.
_BOUNDS: dict[str, tuple[float, float | None, bool]] = {
    "poll_interval_s": (0.0, None, True),
    "idle_timeout_minutes": (0.0, None, True),
    "history_days": (7.0, None, False),
    "max_line_mb": (1.0, None, False),
    "default_window": (1.0, None, False),
    "health.healthy_min": (0.0, 100.0, False),
    "health.warning_min": (0.0, 100.0, False),
    "health.unknown_score": (0.0, 100.0, False),
    "health.live_idle_floor": (0.0, 100.0, False),
    "health.compaction_penalty": (0.0, 100.0, False),
    "health.fill_ok": (0.0, 1.0, False),
    "health.fill_bad": (0.0, 1.0, True),
    "health.duration_bad_hours": (0.0, None, True),
    "health.abandoned_after_hours": (0.0, None, True),
    "health.errors_bad": (0.0, None, True),
    "recommend.restart_fill": (0.0, 1.0, True),
    "recommend.merge_min_keyword_similarity": (0.0, 1.0, False),
    "recommend.burn_minutes": (0.0, None, True),
}
_CHOICES: dict[str, tuple[str, ...]] = {"ui.theme": THEMES}
_PRICE_FIELDS = ("input", "output", "cache_creation", "cache_read")


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(keys: Keys) -> str:
    return ".".join(keys) if keys else "(top level)"


class _Reader:
    """Collects problems; knows the line of every key from the composed YAML node tree."""

    def __init__(self, where: str, root: yaml.Node | None) -> None:
        self.where = where
        self.root = root
        self.problems: list[Problem] = []

    def _find(self, keys: Keys) -> tuple[int | None, int]:
        """(1-based line, depth) of the deepest key of `keys` present in the file."""
        node, line, depth = self.root, None, 0
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            # The last one: with a key written twice, YAML keeps the later value.
            matches = [
                (key_node, value_node)
                for key_node, value_node in node.value
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key
            ]
            if not matches:
                break
            key_node, node = matches[-1]
            line, depth = key_node.start_mark.line + 1, depth + 1
        return line, depth

    def line_of(self, keys: Keys) -> int | None:
        return self._find(keys)[0]

    def present(self, keys: Keys) -> bool:
        return self._find(keys)[1] == len(keys)

    def problem(self, keys: Keys, message: str, *, warning: bool = False) -> None:
        line = self.line_of(keys)
        where = f"{self.where}:{line}" if line else self.where
        text = f"{_dotted(keys)}: {message}"
        self.problems.append(Problem(where, f"warning: {text}" if warning else text))

    def unknown(self, keys: Keys) -> None:
        self.problem(keys, "unknown key (ignored)", warning=True)

    def mapping(self, value: object, keys: Keys) -> dict[Any, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(keys, f"expected a mapping, got {_describe(value)}; using the defaults")
        return None

    def boolean(self, value: object, keys: Keys, default: bool) -> bool:
        if isinstance(value, bool):
            return value
        self.problem(keys, f"expected true or false, got {_describe(value)}")
        return default

    def number(self, value: object, keys: Keys, default: float, *, integer: bool = False) -> float:
        kind = "a whole number" if integer else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.problem(keys, f"expected {kind}, got {_describe(value)}")
            return default
        number = float(value)
        if integer and not number.is_integer():
            self.problem(keys, f"expected {kind}, got {_describe(value)}")
            return default
        low, high, open_low = _BOUNDS.get(_dotted(keys), (0.0, None, False))
        if number < low or (open_low and number == low) or (high is not None and number > high):
            span = f"{'above' if open_low else 'at least'} {low:g}"
            if high is not None:
                span += f" and at most {high:g}"
            self.problem(keys, f"must be {span}, got {_describe(value)}")
            return default
        return number

    def choice(self, value: object, keys: Keys, default: str) -> str:
        choices = _CHOICES.get(_dotted(keys))
        if isinstance(value, str) and (choices is None or value in choices):
            return value
        wanted = " | ".join(choices) if choices else "a string"
        self.problem(keys, f"expected {wanted}, got {_describe(value)}")
        return default


Special = Callable[[_Reader, object, Keys], object]


def _section(
    reader: _Reader,
    value: object,
    keys: Keys,
    default: _D,
    special: Mapping[str, Special] | None = None,
) -> _D:
    """Read a mapping into a frozen dataclass, key by key, typed by the default's own values."""
    if value is None:  # "health:" with nothing under it: the defaults, not an error
        return default
    data = reader.mapping(value, keys)
    if data is None:
        return default
    known = {f.name for f in fields(default)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for raw_key, item in data.items():
        name, sub = str(raw_key), (*keys, str(raw_key))
        if name not in known:
            reader.unknown(sub)
            continue
        current = getattr(default, name)
        if special and name in special:
            values[name] = special[name](reader, item, sub)
        elif isinstance(current, bool):
            values[name] = reader.boolean(item, sub, current)
        elif isinstance(current, int):
            values[name] = int(reader.number(item, sub, current, integer=True))
        elif isinstance(current, float):
            values[name] = reader.number(item, sub, current)
        elif isinstance(current, str):
            values[name] = reader.choice(item, sub, current)
        elif is_dataclass(current):
            values[name] = _section(reader, item, sub, current)
    return replace(default, **values)  # type: ignore[type-var]


def _strings(reader: _Reader, value: object, keys: Keys) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    reader.problem(keys, f"expected a list of paths, got {_describe(value)}")
    return ()


def _agents(reader: _Reader, value: object, keys: Keys) -> dict[str, AgentConfig]:
    agents = {name: AgentConfig() for name in AGENT_NAMES}
    data = {} if value is None else reader.mapping(value, keys) or {}
    for raw_name, item in data.items():
        name = str(raw_name)
        if name not in agents:
            reader.unknown((*keys, name))
            continue
        agents[name] = _section(reader, item, (*keys, name), AgentConfig(), {"roots": _strings})
    return agents


def _merge(
    user: list[tuple[str, _V]], shipped: tuple[tuple[str, _V], ...]
) -> tuple[tuple[str, _V], ...]:
    mentioned = {pattern for pattern, _ in user}
    return (*user, *((p, v) for p, v in shipped if p not in mentioned))


def _windows(reader: _Reader, value: object, keys: Keys) -> tuple[tuple[str, int], ...]:
    shipped = Config().model_windows
    data = {} if value is None else reader.mapping(value, keys) or {}
    user: list[tuple[str, int]] = []
    for pattern, window in data.items():
        sub = (*keys, str(pattern))
        size = reader.number(window, sub, -1.0, integer=True)
        if size >= 1:
            user.append((str(pattern), int(size)))
        elif size == 0:
            reader.problem(sub, "must be at least 1, got 0")
    return _merge(user, shipped)


def _prices(reader: _Reader, value: object, keys: Keys) -> tuple[tuple[str, Price], ...]:
    shipped = Config().prices
    data = {} if value is None else reader.mapping(value, keys) or {}
    user: list[tuple[str, Price]] = []
    for pattern, item in data.items():
        sub = (*keys, str(pattern))
        entry = reader.mapping(item, sub)
        if entry is None:
            continue
        for extra in set(map(str, entry)) - set(_PRICE_FIELDS):
            reader.unknown((*sub, extra))
        if "input" not in entry or "output" not in entry:
            reader.problem(sub, "needs at least input and output prices; entry ignored")
            continue
        got = {name: reader.number(entry[name], (*sub, name), -1.0) for name in _PRICE_FIELDS[:2]}
        # No cache price given: charge cached tokens as plain input (no discount assumed).
        for name in _PRICE_FIELDS[2:]:
            given = name in entry
            got[name] = reader.number(entry[name], (*sub, name), -1.0) if given else got["input"]
        if min(got.values()) >= 0:
            user.append((str(pattern), Price(**got)))
    return _merge(user, shipped)


def _limits(reader: _Reader, value: object, keys: Keys) -> dict[str, UsageLimit]:
    limits = {name: UsageLimit() for name in AGENT_NAMES}
    data = {} if value is None else reader.mapping(value, keys) or {}
    for raw_name, item in data.items():
        name = str(raw_name)
        if name not in limits:
            reader.unknown((*keys, name))
            continue
        limits[name] = _section(reader, item, (*keys, name), UsageLimit())
    return limits


def _recommend(reader: _Reader, value: object, keys: Keys) -> RecommendConfig:
    return _section(reader, value, keys, RecommendConfig(), {"limits": _limits})


def _reported(read: Callable[[object, Describe], tuple[_V, str | None]]) -> Special:
    """A reader of config_notify.py as a special key: its message becomes a problem."""

    def special(reader: _Reader, value: object, keys: Keys) -> object:
        result, message = read(value, _describe)
        if message:
            reader.problem(keys, message)
        return result

    return special


def _ui(reader: _Reader, value: object, keys: Keys) -> UiConfig:
    special = {"notify_on": _reported(read_notify_on), "quiet_hours": _reported(read_quiet_hours)}
    return _section(reader, value, keys, UiConfig(), special)


def _fill_warnings(reader: _Reader, value: object, keys: Keys) -> tuple[float, ...]:
    default = Config().fill_warnings
    items = value if isinstance(value, list) else None
    if items is None or not all(
        isinstance(x, int | float) and not isinstance(x, bool) and 0 < x <= 1 for x in items
    ):
        reader.problem(keys, f"expected a list of fractions in (0, 1], got {_describe(value)}")
        return default
    return tuple(sorted(float(x) for x in items))


def _check_health(reader: _Reader, health: HealthConfig) -> HealthConfig:
    """Checks across keys: ordered thresholds and weights that add up to 1."""
    base = HealthConfig()
    pairs = (
        ("warning_min", "healthy_min", 1.0),
        ("fill_ok", "fill_bad", 1.0),
        ("duration_ok_hours", "duration_bad_hours", 1.0),
        ("stale_after_minutes", "abandoned_after_hours", 60.0),  # compared in minutes
    )
    for low, high, scale in pairs:
        low_value, high_value = getattr(health, low), getattr(health, high)
        if low_value >= high_value * scale:
            key = low if reader.present(("health", low)) else high
            reader.problem(
                ("health", key),
                f"health.{low} ({low_value:g}) must be below health.{high} ({high_value:g}); "
                "using the defaults for both",
            )
            health = replace(health, **{low: getattr(base, low), high: getattr(base, high)})
    weights = health.weights
    total = weights.total
    if total <= 0:
        reader.problem(("health", "weights"), "the weights add up to 0; using the defaults")
        return replace(health, weights=base.weights)
    if abs(total - 1.0) > 1e-6:
        weights = HealthWeights(
            weights.tokens / total,
            weights.duration / total,
            weights.activity / total,
            weights.errors / total,
        )
        shown = ", ".join(f"{f.name} {getattr(weights, f.name):.3g}" for f in fields(weights))
        reader.problem(
            ("health", "weights"),
            f"the weights add up to {total:g}, not 1; scaled to {shown}",
            warning=True,
        )
    return replace(health, weights=weights)


def _parse(text: str, where: str) -> tuple[object, yaml.Node | None, Problem | None]:
    """What yaml.safe_load does, keeping the node tree (for line numbers) and the error mark."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return data, node, None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f"{where}:{mark.line + 1}" if mark is not None else where
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, None, Problem(place, f"YAML syntax error: {message}; using the defaults")
    except yaml.YAMLError as exc:
        return None, None, Problem(where, f"YAML error: {exc}; using the defaults")
    finally:
        loader.dispose()


def load_config_text(text: str, where: str) -> tuple[Config, list[Problem]]:
    data, root, error = _parse(text, where)
    if error is not None:
        return Config(), [error]
    if data is None:  # an empty file, or only comments
        return Config(), []
    reader = _Reader(where, root)
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        problem = f"expected a mapping of settings, got {_describe(data)}; using the defaults"
        return Config(), [Problem(f"{where}:{line}", problem)]
    special: dict[str, Special] = {
        "agents": _agents,
        "model_windows": _windows,
        "prices": _prices,
        "fill_warnings": _fill_warnings,
        "recommend": _recommend,
        "ui": _ui,
    }
    config = _section(reader, data, (), Config(), special)
    config = replace(config, health=_check_health(reader, config.health))
    return config, reader.problems
