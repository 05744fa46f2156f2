"""The whole check, as the README's test command runs it: lint, types, then every test layer.

Each step runs even when an earlier one fails, so one run shows every problem; the exit code is
non-zero when any step failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def main() -> int:
    steps: list[tuple[str, list[str]]] = [
        ("ruff", [PY, "-m", "ruff", "check", "app", "tests", "benchmarks", "packaging"]),
        ("mypy", [PY, "-m", "mypy"]),
        ("pytest", [PY, "-m", "pytest", "-q", "-m", "not e2e", *sys.argv[1:]]),
        # The real tray under Xvfb (tests/e2e/desktop.py starts its own X server and bus).
        ("e2e", [PY, "-m", "pytest", "-q", "-m", "e2e", "tests/e2e"]),
        # The PyInstaller one-dir bundle, then its --version and --self-test (packaging/README.md).
        ("bundle", [PY, "packaging/build.py", "--onedir", "--smoke"]),
    ]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    failed: list[str] = []
    for name, cmd in steps:
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        if subprocess.call(cmd, cwd=ROOT, env=env) != 0:
            failed.append(name)
    if failed:
        print(f"== failed: {', '.join(failed)}", flush=True)
        return 1
    print("== all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
