"""`info` on a real desktop: the tray and the notification service are found when they run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .desktop import Desktop, missing_tools, wait_for

pytestmark = pytest.mark.e2e


def _info(desktop: Desktop, tmp_path: Path) -> list[str]:
    env = dict(desktop.env, HOME=str(tmp_path / "home"))
    env.pop("QT_QPA_PLATFORM", None)  # let info choose, as it does for a user
    done = subprocess.run(
        [sys.executable, "-m", "llm_session_manager", "--data-dir", str(tmp_path / "data"),
         "info"], env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


def test_info_finds_the_tray_and_the_notification_daemon(tmp_path: Path) -> None:
    missing = missing_tools("xembed")
    if missing:
        # CI installs every tool (.ci/run), so a missing one there is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"CI lacks {', '.join(missing)}: .ci/run should have installed them")
        pytest.skip(f"needs {', '.join(missing)} (see .ci/run)")
    (tmp_path / "home").mkdir()
    desktop = Desktop(tmp_path, "xembed")
    try:
        desktop.start()
        wait_for("trayer's tray selection", lambda: any(
            line == "system tray: available (Qt platform xcb)"
            for line in _info(desktop, tmp_path)), 15)
        lines = _info(desktop, tmp_path)
        assert "notifications: available (org.freedesktop.Notifications is running)" in lines
    finally:
        desktop.close()
