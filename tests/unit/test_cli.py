"""The CLI over the home the real clients wrote, checked against ccusage 20.0.24's totals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.cli import main

ORACLE = Path(__file__).resolve().parents[1] / "data" / "real-clients" / "oracle"
CORE_AGENTS = ("claude-code", "codex")  # the oracle's agents: 8 + 7 sessions in the sample home


def core_rows(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r["agent"] in CORE_AGENTS]
COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"


def run(data: Path, *argv: str) -> int:
    return main(["--data-dir", str(data), *argv])


def list_json(data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[Any]:
    assert run(data, "list", "--format", "json", *extra) == 0
    rows: list[Any] = json.loads(capsys.readouterr().out)
    return rows


def test_tokens_equal_the_oracle_for_every_claude_and_codex_session(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {r["session_id"]: r for r in list_json(cli_env, capsys)}
    claude = json.loads((ORACLE / "ccusage-20.0.24-claude-session.json").read_text())["session"]
    codex = json.loads((ORACLE / "ccusage-20.0.24-codex-session.json").read_text())["sessions"]
    assert claude and codex
    for want in claude:
        got = rows[want["period"]]
        assert got["agent"] == "claude-code"
        assert got["tokens"]["input"] == want["inputTokens"]
        assert got["tokens"]["output"] == want["outputTokens"]
        assert got["tokens"]["cache_creation"] == want["cacheCreationTokens"]
        assert got["tokens"]["cache_read"] == want["cacheReadTokens"]
        assert got["tokens"]["total"] == want["totalTokens"]
        assert got["tokens"]["source"] == "exact"
    for want in codex:
        session_id = want["sessionFile"][-36:]
        got = rows[session_id]
        assert got["agent"] == "codex"
        assert got["tokens"]["input"] == want["inputTokens"]
        assert got["tokens"]["cache_read"] == want["cacheReadTokens"]
        assert got["tokens"]["output"] == want["outputTokens"]
        assert got["tokens"]["reasoning"] == want["reasoningOutputTokens"]
        assert got["tokens"]["total"] == want["totalTokens"]


def test_list_json_has_the_documented_fields(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list_json(cli_env, capsys)
    assert len(core_rows(rows)) == 15
    for row in rows:
        for field in ("id", "agent", "session_id", "title", "project", "cwd", "git_branch",
                      "model", "state", "pids", "started_at", "last_activity_at", "tokens",
                      "context", "errors", "cost_usd", "health", "tags"):
            assert field in row, field
        assert set(row["context"]) >= {"tokens", "window", "fill", "compactions"}
        assert set(row["errors"]) == {"tool", "api"}
        assert set(row["health"]) == {"score", "level", "factors"}
        assert row["state"] == "ended" and row["pids"] == []
        assert row["id"] == f"{row['agent']}:{row['session_id']}"
        assert row["last_activity_at"].endswith("Z")
    compacted = next(r for r in rows if r["session_id"] == COMPACTED)
    assert compacted["context"]["compactions"] == 1
    assert compacted["model"] == "claude-opus-4-8"
    assert compacted["git_branch"] == "feature/mock-branch"
    assert 0 < compacted["context"]["fill"] < 1
    odd = next(r for r in rows if r["cwd"] == "/home/dev/src/my.app_v2 space")
    assert odd["project"] == "my.app_v2 space"


def test_table_fits_80_columns(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    total = len(list_json(cli_env, capsys))
    assert run(cli_env, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ID")
    assert len(lines) == 1 + total
    assert max(len(line) for line in lines) <= 80
    ids = [line.split()[0] for line in lines[1:]]
    assert len(set(ids)) == len(ids)  # shortest unique prefixes, even for time-ordered ids


def test_table_takes_the_width_columns_asks_for(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert run(cli_env, "list") == 0
    narrow = capsys.readouterr().out.splitlines()
    monkeypatch.setenv("COLUMNS", "140")
    assert run(cli_env, "list") == 0
    wide = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in narrow) <= 80 < max(len(line) for line in wide) <= 140
    monkeypatch.setenv("COLUMNS", "40")  # never narrower than 80
    assert run(cli_env, "list") == 0
    assert capsys.readouterr().out.splitlines() == narrow


def test_health_prints_each_factor(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli_env, "health", COMPACTED[:6]) == 0
    out = capsys.readouterr().out
    for factor in ("tokens", "duration", "activity", "errors"):
        assert f"\n{factor} " in out
    assert "1 compaction" in out


def test_unknown_and_ambiguous_ids_fail_with_a_message(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cli_env, "health", "zzzz") == 2
    assert "no session matches 'zzzz'" in capsys.readouterr().err
    assert run(cli_env, "health", "01a20fd1") == 2  # every Codex id starts so
    assert "matches 7 sessions" in capsys.readouterr().err
    assert run(cli_env, "health", "codex:01a20fd1-4b89") == 0


def test_tags_and_project_persist_and_filter(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cli_env, "tag", COMPACTED[:8], "backend", "urgent") == 0
    assert run(cli_env, "untag", COMPACTED[:8], "urgent", "absent") == 0
    err = capsys.readouterr().err
    assert "not tagged with absent" in err
    assert run(cli_env, "set-project", COMPACTED[:8], "api.server_v2") == 0
    capsys.readouterr()
    rows = list_json(cli_env, capsys, "--tag", "backend")
    assert [r["session_id"] for r in rows] == [COMPACTED]
    assert rows[0]["tags"] == ["backend"] and rows[0]["project"] == "api.server_v2"
    assert [r["session_id"] for r in list_json(cli_env, capsys, "--project", "api.server_v2")] == [
        COMPACTED
    ]
    assert run(cli_env, "set-project", COMPACTED[:8], "") == 0
    capsys.readouterr()
    assert list_json(cli_env, capsys, "--tag", "backend")[0]["project"] == "myapp"


def test_status_and_agent_filters(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(list_json(cli_env, capsys, "--agent", "codex")) == 7
    assert list_json(cli_env, capsys, "--status", "live") == []
    assert len(list_json(cli_env, capsys, "--status", "ended")) == len(list_json(cli_env, capsys))


def test_init_and_show_config(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli_env, "init-config") == 0
    assert (cli_env / "config.yaml").is_file()
    assert run(cli_env, "init-config") == 2
    assert "--force" in capsys.readouterr().err
    assert run(cli_env, "show-config") == 0
    out = capsys.readouterr().out
    assert "poll_interval_s: 5.0" in out and str(cli_env / "config.yaml") in out


def test_a_broken_config_gives_defaults_and_names_the_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_env / "config.yaml").write_text("poll_interval_s: 2\nhealth:\n  weights: [oops\n")
    assert run(cli_env, "list", "--format", "json") == 0
    captured = capsys.readouterr()
    assert len(core_rows(json.loads(captured.out))) == 15
    assert f"{cli_env / 'config.yaml'}:4: YAML syntax error" in captured.err
    (cli_env / "config.yaml").write_text("ui:\n  theme: dark\npoll_interval_s: fast\n")
    assert run(cli_env, "show-config") == 0
    captured = capsys.readouterr()
    assert "poll_interval_s: 5.0" in captured.out  # the default stands in for the bad value
    assert f"{cli_env / 'config.yaml'}:3" in captured.err and "poll_interval_s" in captured.err


def test_info_lists_roots_and_what_was_found(
    cli_env: Path, sample_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (sample_home / ".claude/projects/-home-dev-src-myapp/bad.jsonl").write_bytes(b"{nope\n")
    assert run(cli_env, "info") == 0
    out = capsys.readouterr().out
    assert f"{sample_home / '.claude/projects'} (found)" in out
    assert f"{sample_home / '.codex/archived_sessions'} (absent)" in out
    assert "claude-code: 9 sessions" in out and "codex: 7 sessions" in out
    assert "bad.jsonl:1" in out
    assert "tokenizer: cl100k_base" in out
    # A later run reads nothing new, yet still lists the bad line it recorded.
    assert run(cli_env, "list") == 0
    capsys.readouterr()
    assert run(cli_env, "info") == 0
    assert "bad.jsonl:1" in capsys.readouterr().out


def test_module_entry_points(cli_env: Path, sample_home: Path) -> None:
    env = {"HOME": str(sample_home), "PATH": "/usr/bin:/bin"}
    for module in ("llm_session_manager", "llm_session_manager.cli"):
        out = subprocess.run(
            [sys.executable, "-m", module, "--data-dir", str(cli_env), "list", "--format", "json"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout
        assert len(core_rows(json.loads(out))) == 15


def test_without_a_display_the_app_says_what_to_do(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run(cli_env) == 2  # no command: the tray app
    err = capsys.readouterr().err
    assert "no desktop display" in err and "`list`" in err
    assert run(cli_env, "monitor") == 2
    assert "QT_QPA_PLATFORM=offscreen" in capsys.readouterr().err


def test_table_colours_health_only_when_asked(cli_env: Path, sample_home: Path) -> None:
    from llm_session_manager.config import Config
    from llm_session_manager.core import report
    from llm_session_manager.core.poller import Poller
    from llm_session_manager.core.processes import ProcessTable
    from llm_session_manager.core.sources.registry import build_sources

    config = Config()
    sessions = Poller(build_sources(config, {}, sample_home), None, config,
                      scan_processes=ProcessTable).poll_once().sessions
    plain = report.table(sessions)
    coloured = report.table(sessions, colour=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m" in coloured  # healthy sessions in green
    strip = __import__("re").compile(r"\x1b\[[0-9;]*m")
    assert strip.sub("", coloured) == plain  # the same table, only painted


def test_table_marks_counted_tokens_and_still_fits_80_columns(sample_home: Path) -> None:
    from dataclasses import replace

    from llm_session_manager.config import Config
    from llm_session_manager.core import report
    from llm_session_manager.core.models import Usage
    from llm_session_manager.core.poller import Poller
    from llm_session_manager.core.processes import ProcessTable
    from llm_session_manager.core.sources.registry import build_sources

    config = Config()
    sessions = list(Poller(build_sources(config, {}, sample_home), None, config,
                           scan_processes=ProcessTable).poll_once().sessions)
    # The widest figure a counted session can have, on the row with the widest ID (Codex).
    index = max(range(len(sessions)), key=lambda i: len(sessions[i].key.session_id)
                if sessions[i].key.agent == "codex" else 0)
    counted = sessions[index]
    sessions[index] = replace(counted, facts=replace(
        counted.facts, usage=Usage(input=1_250_000, source="counted")))
    lines = report.table(sessions).splitlines()
    assert max(len(line) for line in lines) <= 80
    header = lines[0]
    column = header.index("TOKENS")
    cells = [line[column:column + 6].strip() for line in lines[1:]]
    assert cells[index] == "~1.25M"
    assert [c for c in cells if c.startswith("~")] == ["~1.25M"]  # exact figures stay bare
