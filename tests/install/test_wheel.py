"""The app works installed from a wheel, not only from the source tree.

Builds the wheel from this checkout (no network: the build uses the setuptools this environment
already has), installs it without dependencies into a folder of its own, and runs the CLI from
there with the source tree out of reach: resources (the tokenizer) must travel inside the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_resources_and_runs(tmp_path: Path, sample_home: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("llm_session_manager-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "llm_session_manager/resources/tokenizers/cl100k_base.tiktoken" in names
    assert "llm_session_manager/__main__.py" in names

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    # Only the installed copy and the dependencies are importable; the checkout is not.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    env = {
        "HOME": str(sample_home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(target), *deps]),
        "PYTHONNOUSERSITE": "1",
    }
    probe = subprocess.run(
        [sys.executable, "-I", "-c",
         "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
         "import llm_session_manager, llm_session_manager.paths as p;"
         "print(llm_session_manager.__file__); print(p.resource_path('tokenizers'))"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    module_file, tokenizers = probe.stdout.split()
    assert module_file.startswith(str(target))
    assert tokenizers.startswith(str(target))

    listing = subprocess.run(
        [sys.executable, "-c",
         "import sys; from llm_session_manager.cli import main; sys.exit(main())",
         "--data-dir", str(tmp_path / "data"), "list", "--format", "json"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    rows = json.loads(listing.stdout)
    assert len(rows) >= 15
    info = subprocess.run(
        [sys.executable, "-c",
         "import sys; from llm_session_manager.cli import main; sys.exit(main())",
         "--data-dir", str(tmp_path / "data"), "info"],
        env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert f"cl100k_base loaded from {target}" in info.stdout
