"""A writable home holding the bundled samples of every agent, where each agent keeps them."""

from __future__ import annotations

import stat
from pathlib import Path

from llm_session_manager.selftest import copy_samples


def make_sample_home(home: Path) -> Path:
    copy_samples(home)  # the layout --self-test uses: resources/samples/<agent> -> ~/...
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return home
