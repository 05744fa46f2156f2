"""`export` and `import-context` end to end, on the sessions the real clients wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llm_session_manager.cli import main

COMPACTED = "81c214e6-cd39-403f-b856-ac5ce6a0f407"
CODEX_FAIL = "01a20fd1-0524-7aa0-bb11-fe5f97df676a"
PLANTED = "sk-ant-api03-PlantedPlantedPlanted0123456789"


def run(data: Path, *argv: str) -> int:
    return main(["--data-dir", str(data), *argv])


def listed(data: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Every session as `list` shows it, less health: its activity factor moves with the clock,
    so two listings a minute apart would differ with nothing changed."""
    capsys.readouterr()
    assert run(data, "list", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    return {r["session_id"]: {k: v for k, v in r.items() if k != "health"} for r in rows}


@pytest.fixture
def other_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A second data dir on a machine without the agents' records (an empty home)."""
    home = tmp_path / "other-home"
    home.mkdir()
    data = tmp_path / "other-data"
    data.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return data


@pytest.mark.parametrize("session_id", [COMPACTED, CODEX_FAIL])
@pytest.mark.parametrize("ext", [".json", ".yaml"])
def test_export_import_export_gives_the_same_document(
    cli_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    session_id: str,
    ext: str,
) -> None:
    assert run(cli_env, "tag", session_id, "handoff", "p1") == 0
    assert run(cli_env, "set-project", session_id, "Payments") == 0
    first = tmp_path / f"first{ext}"
    assert run(cli_env, "export", session_id, "-o", str(first)) == 0
    assert "0 secrets redacted" in capsys.readouterr().out

    home = tmp_path / "elsewhere"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    other = tmp_path / "other-data"
    assert run(other, "import-context", str(first)) == 0
    assert f"imported {'claude-code' if session_id == COMPACTED else 'codex'}:{session_id}" \
        in capsys.readouterr().out  # fmt: skip
    row = listed(other, capsys)[session_id]
    assert (row["state"], row["tags"], row["project"]) == ("imported", ["handoff", "p1"],
                                                           "Payments")  # fmt: skip

    second = tmp_path / f"second{ext}"
    assert run(other, "export", session_id, "-o", str(second)) == 0
    assert "stored import" in capsys.readouterr().out
    assert second.read_bytes() == first.read_bytes()


def test_import_refuses_to_overwrite_unless_asked(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.json"
    assert run(cli_env, "export", COMPACTED, "-o", str(out)) == 0
    before = listed(cli_env, capsys)
    assert run(cli_env, "import-context", str(out)) == 2
    assert "exists; add --overwrite" in capsys.readouterr().err
    assert listed(cli_env, capsys) == before

    assert run(cli_env, "import-context", str(out), "--session-id", "copy-of-81c") == 0
    rows = listed(cli_env, capsys)
    assert rows["copy-of-81c"]["state"] == "imported"
    assert rows[COMPACTED]["state"] != "imported"

    assert run(cli_env, "import-context", str(out), "--overwrite") == 0
    assert "replaced claude-code:" + COMPACTED in capsys.readouterr().out
    assert listed(cli_env, capsys)[COMPACTED]["state"] == "imported"
    # The agent's record is still there, but the poll no longer rebuilds the imported session.
    assert listed(cli_env, capsys)[COMPACTED]["state"] == "imported"


def test_a_malformed_import_prints_the_field_and_fails(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nkind: !!python/object/apply:os.system ['echo x']\n")
    assert run(cli_env, "import-context", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: document: YAML tag") and "python/object" in err


def test_markdown_export_and_redaction_flags(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    transcript = next((cli_env.parent / "home" / ".claude").rglob(f"{COMPACTED}.jsonl"))
    message = {"role": "user", "content": f"use {PLANTED} please"}
    record = {"type": "user", "uuid": "planted-1", "sessionId": COMPACTED,
              "timestamp": "2026-11-24T23:06:00.000Z", "message": message}  # fmt: skip
    line = json.dumps(record)
    with transcript.open("a") as handle:
        handle.write(line + "\n")
    md = tmp_path / "brief.md"
    assert run(cli_env, "export", COMPACTED, "-o", str(md)) == 0
    assert "1 secrets redacted" in capsys.readouterr().out
    text = md.read_text()
    assert PLANTED not in text and "[REDACTED:anthropic-key]" in text
    assert "## Continuation brief" in text and "> [[tool:bash]] please list the files" in text

    raw = tmp_path / "raw.txt"
    assert run(cli_env, "export", COMPACTED, "-o", str(raw), "--format", "json",
               "--no-redact") == 0  # fmt: skip
    assert "not redacted" in capsys.readouterr().out
    assert PLANTED in raw.read_text()


def test_export_refuses_an_unknown_extension_and_agent_folders(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cli_env, "export", COMPACTED, "-o", str(tmp_path / "x.txt")) == 2
    assert "--format" in capsys.readouterr().err
    inside = cli_env.parent / "home" / ".claude" / "projects" / "out.json"
    assert run(cli_env, "export", COMPACTED, "-o", str(inside)) == 2
    assert "will not write into" in capsys.readouterr().err
    assert not inside.exists()
