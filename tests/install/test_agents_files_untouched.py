"""The agents' files are byte-identical (and keep their mtimes) after the app and every command.

The samples of every agent are copied into a temporary home; the app's own data and exports live
outside it. Then every CLI command runs, and the tray app runs offscreen for three polls and quits
as it does at logout (SIGTERM). Nothing in the home may change: no byte, no mtime, no new file
(an SQLite reader that left a -wal or -shm file beside opencode's or Cursor's database would show).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .samples import make_sample_home

DRIVER = Path(__file__).with_name("app_driver.py")


def _state(home: Path) -> dict[str, tuple[str, int, int] | str]:
    state: dict[str, tuple[str, int, int] | str] = {}
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        if path.is_dir():
            state[rel] = "dir"
        else:
            info = path.stat()
            state[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), info.st_size,
                          info.st_mtime_ns)
    return state


def _run(env: dict[str, str], data: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "llm_session_manager", "--data-dir", str(data), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_every_command_and_the_app_leave_the_agents_files_alone(tmp_path: Path) -> None:
    home = make_sample_home(tmp_path / "home")
    before = _state(home)
    data, out = tmp_path / "appdata", tmp_path / "out"
    out.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "QT_QPA_PLATFORM": "offscreen"}

    rows: list[dict[str, Any]] = json.loads(_run(env, data, "list", "--format", "json"))
    assert len({row["agent"] for row in rows}) == 7
    ids = [row["id"] for row in rows]
    first = ids[0]
    _run(env, data, "list")
    _run(env, data, "list", "--all", "--status", "ended")
    for session in ids:  # every agent's sessions through health and export
        _run(env, data, "health", session)
    _run(env, data, "info")
    _run(env, data, "tag", first, "review", "backend")
    _run(env, data, "untag", first, "backend")
    _run(env, data, "set-project", first, "renamed")
    for fmt in ("json", "yaml", "markdown"):
        _run(env, data, "export", first, "-o", str(out / f"export.{fmt}"), "--format", fmt)
    _run(env, data, "import-context", str(out / "export.json"), "--session-id", "imported-1")
    _run(env, data, "recommend")
    _run(env, data, "usage")
    _run(env, data, "init-config")
    _run(env, data, "show-config")
    _run(env, data, "autostart", "status")
    _run(env, data, "--self-test")

    app = subprocess.run(
        [sys.executable, str(DRIVER), "3", "--data-dir", str(data), "monitor", "--interval",
         "0.25"], env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert app.returncode == 0, app.stdout + app.stderr
    report = json.loads(app.stdout.splitlines()[-1])
    assert report["exit"] == 0 and report["polls"] == 3

    after = _state(home)
    assert sorted(set(after) - set(before)) == []  # no new file
    assert sorted(set(before) - set(after)) == []  # none removed
    changed = [path for path in before if before[path] != after[path]]
    assert changed == []
