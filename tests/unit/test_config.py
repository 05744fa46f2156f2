"""Config: defaults, the model tables, and a loader that reports problems instead of raising."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llm_session_manager.config import (
    AGENT_NAMES,
    AgentConfig,
    Config,
    HealthWeights,
    Price,
    config_to_dict,
    default_config_text,
    load_config,
    write_default_config,
)


def load_text(tmp_path: Path, text: str) -> tuple[Config, list[str], list[str]]:
    """Load `text` from a file; returns the config, the problem messages and their places."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    config, problems = load_config(path)
    return config, [p.message for p in problems], [p.where for p in problems]


# --- defaults and tables --------------------------------------------------------------------


def test_defaults_cover_every_agent_and_the_seed_rule() -> None:
    config = Config()
    assert set(config.agents) == set(AGENT_NAMES) == {
        "claude-code", "codex", "cursor", "copilot-vscode", "copilot-cli", "gemini", "opencode",
    }  # fmt: skip
    assert config.agent("codex") == AgentConfig(enabled=True, roots=())
    assert config.agent("not-an-agent") == AgentConfig()
    assert config.health.weights == HealthWeights(0.40, 0.20, 0.20, 0.20)
    assert (config.health.healthy_min, config.health.warning_min) == (70.0, 40.0)
    assert config.default_window == 200_000
    assert config.fill_warnings == (0.70, 0.85)


@pytest.mark.parametrize(
    ("model", "window"),
    [
        (None, None),
        ("", None),
        ("claude-sonnet-4-5-20250929", 200_000),
        ("claude-haiku-4-5-20251001", 200_000),
        ("claude-opus-4-1-20250805", 200_000),
        ("claude-opus-4-20250514", 200_000),  # a dated id: "4-2..." is no minor version 2
        ("claude-sonnet-4-20250514", 200_000),
        ("claude-opus-4-6", 200_000),  # 1M only with the beta: observed, not from the table
        ("claude-opus-4-7", 1_000_000),  # native 1M
        ("claude-opus-4-8", 1_000_000),  # later 4.x versions keep it
        ("claude-opus-4.9-20270101", 1_000_000),
        ("Claude-Sonnet-4-6", 1_000_000),  # case does not matter
        ("claude-sonnet-4.7", 1_000_000),
        ("claude-opus-5", 1_000_000),  # the families after 4
        ("claude-sonnet-5-1", 1_000_000),
        ("claude-haiku-4-6", 200_000),  # no Haiku is documented with 1M
        ("claude-3-5-sonnet-20241022", 200_000),
        ("claude-sonnet-4-5[1m]", 1_000_000),  # Claude Code's 1M suffix
        ("claude-sonnet-4.5", 200_000),  # Copilot's spelling
        ("us.anthropic.claude-opus-4-5-20251101-v1:0", 200_000),  # provider prefix
        ("us.anthropic.claude-opus-4-8-v1:0", 1_000_000),
        ("gpt-5-codex", 272_000),
        ("gpt-5.1-codex-max", 272_000),
        ("gemini-2.5-pro", 1_048_576),
        ("gemini-1.5-pro-002", 2_097_152),
        ("llama-3-70b", None),
    ],
)
def test_window_for(model: str | None, window: int | None) -> None:
    assert Config().window_for(model) == window


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("claude-opus-4-5-20251101", 5.0, 25.0),
        ("claude-opus-4-1-20250805", 15.0, 75.0),
        ("claude-sonnet-4-5-20250929", 3.0, 15.0),
        ("claude-haiku-4-5-20251001", 1.0, 5.0),
        ("gpt-5", 1.25, 10.0),
        ("gpt-5-codex", 1.25, 10.0),
        ("gpt-5.1-codex-mini", 0.25, 2.0),
        ("gemini-2.5-flash", 0.3, 2.5),
        ("gemini-2.5-flash-lite", 0.1, 0.4),
    ],
)
def test_price_for_known_models(model: str, input_price: float, output_price: float) -> None:
    price = Config().price_for(model)
    assert price is not None
    assert (price.input, price.output) == (input_price, output_price)


@pytest.mark.parametrize("model", [None, "<synthetic>", "gpt-5.2", "llama-3-70b"])
def test_price_for_unknown_models_is_none(model: str | None) -> None:
    assert Config().price_for(model) is None


# --- the default file -----------------------------------------------------------------------


def test_default_text_loads_back_to_exactly_the_defaults(tmp_path: Path) -> None:
    config, messages, _ = load_text(tmp_path, default_config_text())
    assert messages == []
    assert config == Config()


def test_default_text_has_every_key_with_its_default() -> None:
    text = default_config_text()
    assert yaml.safe_load(text) == config_to_dict(Config())
    assert text.count("\n# ") >= 10  # it explains itself


def test_config_to_dict_round_trips_through_yaml(tmp_path: Path) -> None:
    custom, _, _ = load_text(tmp_path, "poll_interval_s: 2\nui: {theme: dark}\n")
    dumped = yaml.safe_dump(config_to_dict(custom), sort_keys=False)
    again, messages, _ = load_text(tmp_path, dumped)
    assert messages == []
    assert again == custom
    assert (again.poll_interval_s, again.ui.theme) == (2.0, "dark")


def test_write_default_config_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == default_config_text()
    path.write_text("poll_interval_s: 9\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_default_config(path)
    assert path.read_text(encoding="utf-8") == "poll_interval_s: 9\n"
    write_default_config(path, force=True)
    assert path.read_text(encoding="utf-8") == default_config_text()
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]  # no temp file left


# --- loading: what works, what is reported ----------------------------------------------------


def test_missing_and_empty_files_give_defaults_without_problems(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.yaml") == (Config(), [])
    assert load_text(tmp_path, "")[:2] == (Config(), [])
    assert load_text(tmp_path, "# only a comment\n")[:2] == (Config(), [])


def test_values_from_the_file_are_used(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path,
        "poll_interval_s: 2\n"
        "agents:\n  codex: {enabled: false}\n  claude-code: {roots: ['~/work/.claude']}\n"
        "health: {healthy_min: 80, fill_bad: 0.9}\n"
        "ui: {theme: dark, notify_cooldown_minutes: 5}\n",
    )
    assert messages == []
    assert config.poll_interval_s == 2.0
    assert config.agent("codex").enabled is False
    assert config.agent("claude-code").roots == ("~/work/.claude",)
    assert config.agent("claude-code").root_paths() == (Path.home() / "work/.claude",)
    assert config.agent("gemini") == AgentConfig()
    assert (config.health.healthy_min, config.health.fill_bad) == (80.0, 0.9)
    assert config.health.warning_min == 40.0
    assert (config.ui.theme, config.ui.notify_cooldown_minutes) == ("dark", 5.0)


def test_syntax_error_gives_defaults_and_the_line(tmp_path: Path) -> None:
    config, messages, places = load_text(
        tmp_path, "poll_interval_s: 3\nui:\n  theme: dark\n   bad: indent\n"
    )
    assert config == Config()
    assert len(messages) == 1
    assert "YAML syntax error" in messages[0]
    assert places == [f"{tmp_path / 'config.yaml'}:4"]


def test_wrong_type_falls_back_for_that_key_only(tmp_path: Path) -> None:
    config, messages, places = load_text(
        tmp_path, "poll_interval_s: 3\nhealth:\n  weights:\n    tokens: x\n"
    )
    assert messages == ["health.weights.tokens: expected a number, got 'x'"]
    assert places == [f"{tmp_path / 'config.yaml'}:4"]
    assert config.health.weights == HealthWeights()
    assert config.poll_interval_s == 3.0  # the rest of the file still counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("poll_interval_s: -1\n", "poll_interval_s: must be above 0, got -1"),
        ("poll_interval_s: true\n", "poll_interval_s: expected a number, got true"),
        ("max_line_mb: 2.5\n", "max_line_mb: expected a whole number, got 2.5"),
        ("health:\n  fill_ok: 1.5\n", "health.fill_ok: must be at least 0 and at most 1, got 1.5"),
        ("ui:\n  theme: purple\n", "ui.theme: expected auto | light | dark, got 'purple'"),
        ("ui:\n  show_ended: maybe\n", "ui.show_ended: expected true or false, got 'maybe'"),
        ("agents:\n  codex:\n    roots: /x\n", "agents.codex.roots: expected a list of paths"),
        ("fill_warnings: [0.7, 2]\n", "fill_warnings: expected a list of fractions in (0, 1]"),
        ("health: [1, 2]\n", "health: expected a mapping, got a list; using the defaults"),
    ],
)
def test_bad_values_are_named_and_replaced_by_defaults(
    tmp_path: Path, text: str, expected: str
) -> None:
    config, messages, _ = load_text(tmp_path, text)
    assert len(messages) == 1
    assert messages[0].startswith(expected)
    assert config == Config()


def test_a_key_written_twice_is_reported_where_its_used_value_is(tmp_path: Path) -> None:
    config, messages, places = load_text(
        tmp_path, "poll_interval_s: 3\nui: {}\npoll_interval_s: x\n"
    )
    assert config.poll_interval_s == 5.0
    assert messages == ["poll_interval_s: expected a number, got 'x'"]
    assert places[0].endswith(":3")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    config, messages, places = load_text(tmp_path, "- a\n- b\n")
    assert config == Config()
    assert messages == ["expected a mapping of settings, got a list; using the defaults"]
    assert places[0].endswith(":1")


def test_unknown_keys_are_warnings_and_the_rest_is_used(tmp_path: Path) -> None:
    config, messages, places = load_text(
        tmp_path,
        "poll_interval_s: 4\ncolour: blue\nhealth:\n  mood: good\nagents:\n  aider: {}\n",
    )
    assert config.poll_interval_s == 4.0
    assert messages == [
        "warning: colour: unknown key (ignored)",
        "warning: health.mood: unknown key (ignored)",
        "warning: agents.aider: unknown key (ignored)",
    ]
    assert [p.rsplit(":", 1)[1] for p in places] == ["2", "4", "6"]


def test_weights_that_do_not_add_up_are_scaled_with_a_warning(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path, "health:\n  weights: {tokens: 2, duration: 1, activity: 1, errors: 0}\n"
    )
    assert config.health.weights == HealthWeights(0.5, 0.25, 0.25, 0.0)
    assert len(messages) == 1
    assert messages[0].startswith("warning: health.weights: the weights add up to 4, not 1")


def test_zero_weights_fall_back_to_the_defaults(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path, "health:\n  weights: {tokens: 0, duration: 0, activity: 0, errors: 0}\n"
    )
    assert config.health.weights == HealthWeights()
    assert messages == ["health.weights: the weights add up to 0; using the defaults"]


def test_thresholds_in_the_wrong_order_fall_back_together(tmp_path: Path) -> None:
    config, messages, places = load_text(tmp_path, "health:\n  healthy_min: 30\n")
    assert (config.health.healthy_min, config.health.warning_min) == (70.0, 40.0)
    assert messages == [
        "health.healthy_min: health.warning_min (40) must be below health.healthy_min (30); "
        "using the defaults for both"
    ]
    assert places[0].endswith(":2")


def test_user_windows_come_first_and_shipped_ones_follow(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path,
        "model_windows:\n  'my-model*': 64000\n  '*claude-opus-4*': 500000\n  'bad*': lots\n",
    )
    assert messages == ["model_windows.bad*: expected a whole number, got 'lots'"]
    assert config.model_windows[:2] == (("my-model*", 64_000), ("*claude-opus-4*", 500_000))
    assert config.window_for("my-model-7b") == 64_000
    assert config.window_for("claude-opus-4-1-20250805") == 500_000
    # The user's pattern is matched first, so it also catches the 1M Opus 4.7: the user decides.
    assert config.window_for("claude-opus-4-7") == 500_000
    assert config.window_for("claude-sonnet-4-6") == 1_000_000  # shipped entries still apply
    assert config.window_for("gemini-2.5-pro") == 1_048_576
    assert [p for p, _ in config.model_windows].count("*claude-opus-4*") == 1


def test_user_prices_merge_and_missing_cache_prices_equal_input(tmp_path: Path) -> None:
    config, messages, _ = load_text(
        tmp_path,
        "prices:\n"
        "  'local-*': {input: 0.5, output: 1}\n"
        "  '*claude-haiku-4*': {input: 2, output: 8, cache_creation: 2.5, cache_read: 0.2}\n"
        "  'half-*': {input: 1}\n"
        "  'neg-*': {input: -1, output: 1}\n",
    )
    assert messages == [
        "prices.half-*: needs at least input and output prices; entry ignored",
        "prices.neg-*.input: must be at least 0, got -1",
    ]
    assert config.price_for("local-llm") == Price(0.5, 1.0, 0.5, 0.5)
    assert config.price_for("claude-haiku-4-5") == Price(2.0, 8.0, 2.5, 0.2)
    assert config.price_for("half-x") is None
    assert config.price_for("claude-sonnet-4-5") == Price(3.0, 15.0, 3.75, 0.3)


def test_unreadable_files_are_problems_not_exceptions(tmp_path: Path) -> None:
    folder = tmp_path / "is-a-dir.yaml"
    folder.mkdir()
    config, problems = load_config(folder)
    assert config == Config()
    assert problems[0].where == str(folder)
    assert "cannot read the config file" in problems[0].message

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"poll_interval_s: \xff\xfe\n")
    config, problems = load_config(binary)
    assert config == Config()
    assert "cannot read the config file" in problems[0].message


def test_loading_never_rewrites_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = "poll_interval_s: nope\ncolour: blue\nhealth: {weights: {tokens: 3}}\n"
    path.write_text(text, encoding="utf-8")
    before = path.stat().st_mtime_ns
    _, problems = load_config(path)
    assert len(problems) == 3
    assert path.read_text(encoding="utf-8") == text
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
