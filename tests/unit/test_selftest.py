"""`--self-test` passes on a complete installation and fails, in one clear line, on a broken one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "PYTHONPATH"))}
    env.update(HOME=str(home), **extra)
    return env


def _self_test(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llm_session_manager", "--self-test"], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_self_test_passes_and_touches_no_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = _self_test(_env(home), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("self-test ok: 7 agents, ")
    assert "window rendered" in line and line.endswith("tokenizer cl100k_base")
    assert list(home.iterdir()) == []  # samples and database lived in a temp folder


def test_self_test_names_what_is_missing(tmp_path: Path) -> None:
    """An installed copy (resources inside the package, as in a wheel) that lost one sample."""
    site = tmp_path / "site"
    package = site / "llm_session_manager"
    shutil.copytree(ROOT / "app" / "llm_session_manager", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", package / "resources")
    shutil.rmtree(package / "resources" / "samples" / "gemini")
    home = tmp_path / "home"
    home.mkdir()
    done = _self_test(_env(home, PYTHONPATH=str(site)), tmp_path)
    assert done.returncode == 1
    missing = package / "resources" / "samples" / "gemini"
    assert done.stdout.splitlines() == [f"self-test FAILED: samples: {missing} is missing"]
