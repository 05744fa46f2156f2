"""The `recommend` and `usage` commands over a copy of the real clients' home.

The CLI reads the real clock, so the case is made relative to it: one reply appended to a real
transcript a few minutes before now, with a prompt large enough to fill 90% of the window.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_session_manager.cli import main
from llm_session_manager.cli_advice import usage_table
from llm_session_manager.config import Config
from llm_session_manager.core.health import format_tokens
from llm_session_manager.core.models import UsageWindow

HELLO = "9f0872f4-68e2-4afc-b54d-208680e00ae9"
TRANSCRIPT = Path(".claude/projects/-home-dev-src-myapp") / f"{HELLO}.jsonl"


def run(data: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["--data-dir", str(data), *argv]) == 0
    return capsys.readouterr().out


def fill_hello(home: Path) -> tuple[int, int]:
    """Append a reply whose prompt fills 90% of its model's window; (prompt, window) tokens."""
    path = home / TRANSCRIPT
    with path.open("rb") as handle:
        last: dict[str, Any] = [r for r in map(orjson.loads, handle)
                                if r.get("type") == "assistant"][-1]
    window = Config().window_for(last["message"]["model"])
    assert window, "the sample's model has a window in the shipped table"
    prompt = round(window * 0.9)
    line = copy.deepcopy(last)
    line["uuid"] = "00000000-0000-4000-c000-000000000001"
    line["requestId"] = "req_cli_1"
    at = datetime.now(UTC) - timedelta(minutes=3)
    line["timestamp"] = at.isoformat().replace("+00:00", "Z")
    line["message"]["id"] = "msg_cli_1"
    line["message"]["usage"] = {"input_tokens": 20, "cache_creation_input_tokens": 0,
                                "cache_read_input_tokens": prompt - 20, "output_tokens": 40}
    with path.open("ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")
    return prompt, window


def full_text(prompt: int, window: int) -> str:
    return f"context 90% full ({format_tokens(prompt)} of {format_tokens(window)})"


def test_recommend_json_marks_new_once_per_cooldown(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt, window = fill_hello(sample_home)
    first = json.loads(run(cli_env, capsys, "recommend", "--format", "json"))
    warning = next(r for r in first if r["kind"] == "token-warning")
    assert warning["id"] == f"token-warning:claude-code:{HELLO}:85"
    assert warning["sessions"] == [f"claude-code:{HELLO}"]
    assert warning["severity"] == "warning" and warning["new"] is True
    assert full_text(prompt, window) in warning["reason"]
    assert warning["command"] == "cd /home/dev/src/myapp && claude"
    assert warning["resume_command"] == f"cd /home/dev/src/myapp && claude --resume {HELLO}"
    # Shown once: the next run lists it again, no longer new.
    again = json.loads(run(cli_env, capsys, "recommend", "--format", "json"))
    assert [(r["id"], r["new"]) for r in again if r["kind"] == "token-warning"] == [
        (warning["id"], False)]


def test_recommend_filters_by_kind_and_prints_reason_and_command(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt, window = fill_hello(sample_home)
    out = run(cli_env, capsys, "recommend", "--kind", "token-warning")
    assert out.startswith("[warning] NEW token-warning: claude-code 'Say hello': context 90% full")
    assert f"  why: {full_text(prompt, window)}, past the 85% warning" in out
    assert "  start fresh: cd /home/dev/src/myapp && claude" in out
    assert "estimates from local records" in out
    assert "merge" not in out.split("(NEW")[0]
    assert run(cli_env, capsys, "recommend", "--kind", "restart") == (
        "no recommendations right now\n")


def test_recommend_is_quiet_on_the_untouched_home_at_defaults(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recs = json.loads(run(cli_env, capsys, "recommend", "--format", "json"))
    # Whatever the clock, nothing in the sample home is near a fill threshold or the spend.
    assert not [r for r in recs if r["kind"] in ("token-warning", "restart", "spend-warning")]


def test_spend_threshold_comes_from_the_config_file(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_hello(sample_home)
    (cli_env / "config.yaml").write_text("daily_spend_warning_usd: 0.01\n")
    recs = json.loads(run(cli_env, capsys, "--config", str(cli_env / "config.yaml"),
                          "recommend", "--format", "json", "--kind", "spend-warning"))
    assert [r["id"] for r in recs] == ["spend-warning:24h:0.01"]
    assert "last 24 hours" in recs[0]["reason"] and recs[0]["new"] is True


def test_usage_json_is_labelled_an_estimate(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt, _ = fill_hello(sample_home)
    doc = json.loads(run(cli_env, capsys, "usage", "--format", "json"))
    assert doc["estimate"] is True and "local records" in doc["note"]
    got = {(w["agent"], w["window"]): w for w in doc["windows"]}
    five = got[("claude-code", "5h")]
    # The appended reply (its prompt and 40 out, 3 minutes ago) is in the 5 hours and the last
    # hour.
    assert five["tokens"] >= prompt + 40 and five["burn_tokens_per_hour"] >= prompt + 40
    assert five["estimate"] is True and five["limit_tokens"] is None
    assert got[("claude-code", "week")]["tokens"] >= five["tokens"]


def test_usage_table_says_estimate_and_shows_the_run_out() -> None:
    now = datetime(2026, 11, 25, 5, 45, tzinfo=UTC)
    windows = [
        UsageWindow("claude-code", "5h", now - timedelta(hours=5), now, 150_000, 0.42, 50_000.0,
                    400_000, now + timedelta(hours=5)),
        UsageWindow("codex", "week", now - timedelta(days=7), now, 85_000, None, 0.0, 80_000,
                    now),
    ]
    text = usage_table(windows)
    assert text.startswith("ESTIMATE. Estimates from local records")
    assert "claude-code  5 hours  150k    $0.42     50k     400k   2026-11-25 10:45" in text
    assert "codex        7 days   85k     no price  0       80k    limit reached" in text
    assert "no usage in the last 7 days" in usage_table([])


def test_restart_comes_with_its_continuation_brief(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_hello(sample_home)
    config = cli_env / "config.yaml"
    config.write_text("recommend:\n  restart_fill: 0.85\n  restart_compactions: 0\n")
    recs = json.loads(run(cli_env, capsys, "--config", str(config), "recommend", "--format",
                          "json", "--kind", "restart"))
    (restart,) = recs
    assert restart["sessions"] == [f"claude-code:{HELLO}"]
    brief = restart["brief"]
    assert brief and "Say hello" in brief  # the session's first prompt, from its record
    out = run(cli_env, capsys, "--config", str(config), "recommend", "--kind", "restart")
    assert "continuation brief (paste as the fresh session's first prompt):" in out
    assert "    " + brief.splitlines()[0] in out
