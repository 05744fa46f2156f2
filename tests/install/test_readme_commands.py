"""The README's two set-up commands work on a clean checkout, exactly as written there.

The repository's committed HEAD is cloned into a temporary folder (no .venv, no build output, no
uncommitted file), and the two commands are taken from README.md's "Set-up: two commands" section
at run time, so a change to the README is a change to what this test runs:
1. "Start the app" installs into a fresh .venv and starts the tray app. It runs offscreen over a
   home of samples until it has stored its first poll, then gets SIGTERM (what a logout sends)
   and must exit 0.
2. "Run the tests" installs the test extra into the same .venv and runs the whole check there.

Slow (PySide6 comes from PyPI or pip's cache, and the inner run repeats every other test), so it
carries the `readme` marker: `-m 'not readme'` leaves it out of a quick local run; CI runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from .samples import make_sample_home

ROOT = Path(__file__).resolve().parents[2]
# Set for the inner run: there, tests/check.py would run this test again inside its own clone,
# and again inside that one. The inner run checks everything else; this test is the outer layer.
INSIDE = "LLM_SESSION_MANAGER_README_RUN"
INSTALL_TIMEOUT_S = 1200  # a cold pip cache downloads PySide6 (~100 MB)
CHECK_TIMEOUT_S = 2400

pytestmark = [
    pytest.mark.readme,
    pytest.mark.skipif(bool(os.environ.get(INSIDE)), reason="inside the README run it tests"),
]


def readme_commands(text: str) -> tuple[str, str]:
    """The first two ```sh blocks of the set-up section: start the app, run the tests."""
    section = text.split("## Set-up: two commands", 1)
    assert len(section) == 2, "README.md has no '## Set-up: two commands' section"
    body = section[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", body, flags=re.S)
    assert len(blocks) >= 2, "the set-up section must hold the two commands as ```sh blocks"
    return blocks[0].strip(), blocks[1].strip()


def _stored_sessions(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM session").fetchone()[0])
    except sqlite3.Error:  # not created or migrated yet
        return 0


def _app_process(shell: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The app: a child of the shell, or the shell itself (bash may exec a list's last command)."""
    try:
        top = psutil.Process(shell.pid)
        candidates = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    for process in candidates:
        try:
            # python3 .venv/bin/llm-session-manager; not `bash -c "... llm-session-manager"`
            if any(Path(part).name == "llm-session-manager" for part in process.cmdline()[:2]):
                return process
        except psutil.NoSuchProcess:
            continue
    return None


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to clone (this tree has no .git)")
    if shutil.which("git") is None:
        if os.environ.get("CI"):  # .ci/run installs it: missing there is a failure
            pytest.fail("CI lacks git: .ci/run should have installed it")
        pytest.skip("needs git (.ci/run installs it)")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True,
                   timeout=120)
    return clone


def test_readme_commands_on_a_clean_checkout(checkout: Path, tmp_path: Path) -> None:
    start_app, run_tests = readme_commands((checkout / "README.md").read_text(encoding="utf-8"))
    home = make_sample_home(tmp_path / "home")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("VIRTUAL_ENV", "PYTHON", "QT_", "PYTEST"))}
    # pip's cache follows HOME; keep the real one so PySide6 is not downloaded twice.
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    app_env = dict(base, HOME=str(home), QT_QPA_PLATFORM="offscreen", PIP_CACHE_DIR=cache)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "CLAUDE_CONFIG_DIR", "CODEX_HOME",
                 "DISPLAY", "WAYLAND_DISPLAY"):
        app_env.pop(name, None)

    # A session of its own, so that a failure can stop the shell and whatever it started.
    shell = subprocess.Popen(["bash", "-c", start_app], cwd=checkout, env=app_env,
                             start_new_session=True)
    try:
        db = home / ".local" / "share" / "llm-session-manager" / "sessions.db"
        deadline = time.monotonic() + INSTALL_TIMEOUT_S
        while _stored_sessions(db) == 0:  # installed, started, polled, stored
            assert shell.poll() is None, f"`{start_app}` ended early with {shell.returncode}"
            assert time.monotonic() < deadline, f"no poll stored after {INSTALL_TIMEOUT_S} s"
            time.sleep(0.5)
        app = _app_process(shell)
        assert app is not None, "the app's process was not found under the shell"
        app.send_signal(signal.SIGTERM)
        assert shell.wait(timeout=60) == 0
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait(timeout=30)

    inner = subprocess.run(
        ["bash", "-c", run_tests], cwd=checkout, env=dict(base, **{INSIDE: "1"}),
        capture_output=True, text=True, timeout=CHECK_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert inner.returncode == 0, (inner.stdout + inner.stderr)[-6000:]
    assert "== all checks passed" in inner.stdout
