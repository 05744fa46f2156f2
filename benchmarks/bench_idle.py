"""What the running app costs while nothing happens: CPU share and memory over a quiet stretch.

    python benchmarks/bench_idle.py                 # 50 sessions, 5 s interval, 60 s measured

Generates a small history (50 sessions from the real-client shapes), indexes it once with the CLI
so the store holds the sessions, then starts the app (`monitor`, offscreen Qt: the same poller
thread, window and timers as on a desktop) and, after a warm-up, samples its CPU time and RSS with
psutil. Prints the share of one core and the peak RSS; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lsm-idle-") as tmp:
        out = Path(tmp) / "history"
        subprocess.run(
            [sys.executable, str(HERE / "generate_history.py"), "--files", str(args.sessions),
             "--target-mb", "5", "--codex-share", "0.1", "--subagent-share", "0",
             "--out", str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        home, data = out / "home", Path(tmp) / "data"
        data.mkdir()
        (data / "config.yaml").write_text(f"poll_interval_s: {args.interval}\n")
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME")},
            "HOME": str(home),
            "QT_QPA_PLATFORM": "offscreen",
        }
        cli = [sys.executable, "-m", "llm_session_manager", "--data-dir", str(data)]
        listed = subprocess.run([*cli, "list", "--format", "json"], env=env, check=True,
                                capture_output=True, text=True)  # fmt: skip
        sessions = listed.stdout.count('"session_id"')
        app = subprocess.Popen([*cli, "monitor"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            proc = psutil.Process(app.pid)
            time.sleep(args.warmup)
            start_cpu = _cpu(proc)
            start = time.monotonic()
            peak_rss = 0
            while time.monotonic() - start < args.seconds:
                peak_rss = max(peak_rss, proc.memory_info().rss)
                time.sleep(0.5)
            cpu = _cpu(proc) - start_cpu
            wall = time.monotonic() - start
        finally:
            app.terminate()
            app.wait(timeout=10)

    share = 100.0 * cpu / wall
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"sessions in the store: {sessions}; poll interval {args.interval:g} s; "
          f"measured {wall:.0f} s after {args.warmup:g} s warm-up")
    print(f"cpu: {share:.2f}% of one core (target < 1%)")
    print(f"rss: peak {peak_rss / 2**20:.0f} MB (target < 150 MB)")
    return 0


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


if __name__ == "__main__":
    raise SystemExit(main())
