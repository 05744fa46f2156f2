"""Shared fixtures. Qt runs offscreen; nothing touches the real user's directories."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DATA = Path(__file__).resolve().parent / "data"
REAL_HOME = DATA / "real-clients" / "home"
ORACLE = DATA / "real-clients" / "oracle"
LIVE = DATA / "real-clients" / "live"


@pytest.fixture
def sample_home(tmp_path: Path) -> Path:
    """A writable copy of the home the real clients wrote (tests may append to it)."""
    home = tmp_path / "home"
    shutil.copytree(REAL_HOME, home, symlinks=True)
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return home


@pytest.fixture
def cli_env(tmp_path: Path, sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME is the sample home, agent variables are cleared; returns the app's data dir."""
    monkeypatch.setenv("HOME", str(sample_home))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "appdata"
    data.mkdir()
    return data
