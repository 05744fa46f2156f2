"""Child process of bench_cli.py: polls a home in-process and prints the timings as JSON.

    python benchmarks/_poller_child.py HOME DATA_DIR SEED [FILES_TO_APPEND_TO ...]

First poll = cold index (fresh data dir), second = nothing new (a stat per file), third = after
one turn was appended to each given file (only the appended bytes should be read).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "app"))

from _writers import Gen, appended  # noqa: E402


def main(argv: list[str]) -> int:
    home, data, seed = Path(argv[0]), Path(argv[1]), int(argv[2])
    files = [Path(p) for p in argv[3:]]
    from llm_session_manager.config import load_config
    from llm_session_manager.core.poller import build_poller
    from llm_session_manager.paths import AppPaths

    paths = AppPaths.under(data)
    data.mkdir(parents=True, exist_ok=True)
    config, _problems = load_config(paths.config_file)
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME")}
    env["HOME"] = str(home)
    poller = build_poller(paths, config, env, home)

    t0 = time.perf_counter()
    snap = poller.poll_once()
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    poller.poll_once()
    warm = time.perf_counter() - t0
    result = {"cold_s": round(cold, 4), "warm_s": round(warm, 4),
              "sessions": len(snap.sessions), "files_seen": snap.files_seen}
    if files:
        with appended(files, Gen(seed), datetime.now(UTC)):
            t0 = time.perf_counter()
            after = poller.poll_once()
            result["append_s"] = round(time.perf_counter() - t0, 4)
            result["append_bytes_read"] = after.bytes_read
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
