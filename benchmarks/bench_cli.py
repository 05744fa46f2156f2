"""Time and peak memory of `list` over a generated history, next to ccusage 20 and 18.

    python benchmarks/generate_history.py                      # once: out/history (~200 MB)
    python benchmarks/generate_history.py --out benchmarks/out/single --single-mb 600
    python benchmarks/bench_cli.py --repeat 3                  # prints the table and the ratios

Every figure comes from a child process: wall time around it, and its peak RSS (ru_maxrss)
from os.wait4, taken by a lean helper process (_spawn.py) so that it is the command's own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _spawn import Run, Spawner
from _writers import Gen, appended

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
CC20, CC18 = "20.0.24", "18.0.11"
_IMPORTS = ("import llm_session_manager.cli, llm_session_manager.core.poller, "
            "llm_session_manager.store.repo")


@dataclass
class Row:
    name: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)  # the worst peak: memory is a limit, not a race


_spawner: Spawner | None = None


def run_child(cmd: Sequence[str], env: Mapping[str, str]) -> Run:
    """Run one command; its wall time and its own peak RSS (see _spawn.py for why a helper)."""
    assert _spawner is not None, "main() starts the spawner"
    return _spawner.run(cmd, env)


def home_env(home: Path) -> dict[str, str]:
    """The user's environment with HOME moved; no agent-root overrides leak in."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME")}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "app"), env.get("PYTHONPATH")]))
    return env


def cli_cmd(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "llm_session_manager", "--data-dir", str(data_dir),
            "list", "--format", "json"]


def pre_read(home: Path) -> int:
    """Read every file once so all tools start with the same (warm) page cache."""
    total = 0
    for p in home.rglob("*.jsonl"):
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
    return total


# -- ccusage -----------------------------------------------------------------------------------


def _native_package() -> str:
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
    return f"@ccusage/ccusage-{sys.platform}-{arch.get(platform.machine().lower(), '?')}"


def ccusage_commands(cache: Path) -> dict[str, list[str]]:
    """The commands that run each ccusage, when installed in the cache (see --install).

    ccusage 20's `bin` is a node script that only locates the platform binary and spawns it;
    the native binary is run directly (the wrapper's node start-up is timed separately).
    """
    cmds: dict[str, list[str]] = {}
    node = shutil.which("node") or "node"
    native = cache / "v20/node_modules" / _native_package() / "bin/ccusage"
    if native.exists():
        if not os.access(native, os.X_OK):
            native.chmod(0o755)  # npm unpacks it without the x bit; the wrapper does the same
        cmds["ccusage20"] = [str(native)]
        cmds["ccusage20-wrapper"] = [node, str(cache / "v20/node_modules/ccusage/src/cli.js")]
    entry18 = cache / "v18/node_modules/ccusage/dist/index.js"
    if entry18.exists():
        cmds["ccusage18"] = [node, str(entry18)]
    return cmds


def install_ccusage(cache: Path) -> None:
    for tag, version in (("v20", CC20), ("v18", CC18)):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                        str(cache / tag), f"ccusage@{version}"], check=True)


def ccusage_summary(text: str) -> dict[str, int]:
    """Sessions and Claude token sums from `session --json` (20: 'session', 18: 'sessions')."""
    try:
        d = json.loads(text)
    except ValueError:
        return {}
    rows = d.get("session") or d.get("sessions") or []
    claude = [r for r in rows if r.get("agent", "claude") == "claude"]
    return {"sessions": len(rows), "claude_sessions": len(claude),
            "claude_output": sum(r.get("outputTokens", 0) for r in claude),
            "claude_cache_read": sum(r.get("cacheReadTokens", 0) for r in claude)}


def our_summary(text: str) -> int | None:
    try:
        d = json.loads(text)
    except ValueError:
        return None
    rows = d.get("sessions") if isinstance(d, dict) else d
    return len(rows) if isinstance(rows, list) else None


# -- scenarios ---------------------------------------------------------------------------------


def bench_ours(home: Path, repeat: int, append_files: list[Path], seed: int) -> list[Row]:
    env = home_env(home)
    cold, warm = Row("ours list: cold"), Row("ours list: warm")
    after = Row("ours list: +10 appended")
    # The floor under every CLI run: interpreter start and the modules `list` imports.
    floor = Row("ours: imports only", note="python start + cli, poller, store imports")
    g = Gen(seed)
    for _ in range(repeat):
        floor.runs.append(run_child([sys.executable, "-c", _IMPORTS], env))
        data = Path(tempfile.mkdtemp(prefix="lsm-bench-"))
        try:
            cold.runs.append(run_child(cli_cmd(data), env))
            warm.runs.append(run_child(cli_cmd(data), env))
            with appended(append_files, g, datetime.now(UTC)) as n:
                after.runs.append(run_child(cli_cmd(data), env))
                after.note = f"{n / 1024:.0f} KiB appended to {len(append_files)} files"
        finally:
            shutil.rmtree(data, ignore_errors=True)
    count = our_summary(cold.runs[-1].stdout)
    cold.note = f"{count} sessions listed" if count is not None else "output not a JSON list"
    warm.note = "nothing new since the cold run"
    return [cold, warm, after, floor]


def bench_ccusage(home: Path, cmds: dict[str, list[str]], repeat: int, repeat_slow: int,
                  manifest: dict[str, Any]) -> list[Row]:
    env = home_env(home)
    rows: list[Row] = []
    for name, cmd in cmds.items():
        row = Row(name)
        n = repeat_slow if name == "ccusage18" else repeat
        for _ in range(n):
            row.runs.append(run_child([*cmd, "session", "--json", "--offline"], env))
        s = ccusage_summary(row.runs[-1].stdout)
        want_sessions = manifest["claude"]["sessions"] + manifest["codex"]["sessions"]
        if name.startswith("ccusage20"):
            match = (s.get("sessions") == want_sessions
                     and s.get("claude_output") == manifest["claude"]["totals"]["output"]
                     and s.get("claude_cache_read") == manifest["claude"]["totals"]["cache_read"])
            row.note = f"{s.get('sessions')} sessions (claude+codex); totals = manifest: {match}"
        else:
            row.note = (f"claude only; groups by folder ({s.get('sessions')} rows); "
                        f"output tokens = manifest: "
                        f"{s.get('claude_output') == manifest['claude']['totals']['output']}")
        rows.append(row)
    return rows


def bench_poller(home: Path, repeat: int, append_files: list[Path], seed: int) -> Row | None:
    """First and second poll in one process (a child, so its RSS is its own)."""
    row = Row("in-process poll")
    results = []
    for _ in range(repeat):
        data = Path(tempfile.mkdtemp(prefix="lsm-poll-"))
        try:
            cmd = [sys.executable, str(HERE / "_poller_child.py"), str(home), str(data), str(seed),
                   *map(str, append_files)]
            run = run_child(cmd, home_env(home))
        finally:
            shutil.rmtree(data, ignore_errors=True)
        if run.rc != 0:
            return None
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        row.runs.append(run)
    row.note = json.dumps({k: min(r[k] for r in results) for k in results[0]})
    return row


# -- report ------------------------------------------------------------------------------------


def machine_info() -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return [f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}",
            f"{os.cpu_count()} cores ({cpu}); {mem:.0f} GiB RAM",
            f"python {platform.python_version()}; node {node or '-'}"]


def print_table(rows: list[Row]) -> None:
    print(f"{'run':<26} {'best s':>8} {'peak RSS MB':>12} {'n':>3}  note")
    for r in rows:
        print(f"{r.name:<26} {r.best:>8.3f} {r.rss:>12.1f} {len(r.runs):>3}  {r.note}")


def ratio_line(label: str, num: Row | None, den: Row | None, target: float) -> str:
    if num is None or den is None:
        return f"{label:<28} -      (target <= {target}x)"
    value = num.best / den.best
    verdict = "ok" if value <= target else "MISSED"
    return f"{label:<28} {value:6.2f}x (target <= {target}x) {verdict}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--history", type=Path, default=HERE / "out" / "history")
    ap.add_argument("--single", type=Path, default=HERE / "out" / "single",
                    help="a --single-mb output; skipped when absent")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where ccusage is npm-installed")
    ap.add_argument("--install", action="store_true", help="npm-install both ccusage versions")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the fast runs")
    ap.add_argument("--repeat-slow", type=int, default=1, help="best of N for ccusage 18")
    ap.add_argument("--seed", type=int, default=7, help="which 10 files get appended turns")
    ap.add_argument("--skip", action="append", default=[],
                    help="ours, ccusage, poller or single (repeatable)")
    args = ap.parse_args(argv)
    global _spawner
    work = Path(tempfile.mkdtemp(prefix="lsm-bench-io-"))
    _spawner = Spawner(work)
    try:
        return _bench(args)
    finally:
        _spawner.close()
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace) -> int:
    home = args.history.resolve() / "home"
    manifest = json.loads((args.history / "manifest.json").read_text())
    if args.install:
        install_ccusage(args.cache)
    print("\n".join(machine_info()))
    mb = pre_read(home) / (1 << 20)
    claude, codex = manifest["claude"]["sessions"], manifest["codex"]["sessions"]
    print(f"history: {home} ({manifest['files']} files, {mb:.0f} MiB; claude {claude} sessions, "
          f"codex {codex}); files pre-read into the page cache\n")

    mains = sorted(p for p in (home / ".claude/projects").glob("*/*.jsonl"))
    append_files = random.Random(args.seed).sample(mains, min(10, len(mains)))
    rows: list[Row] = []
    if "ours" not in args.skip:
        rows += bench_ours(home, args.repeat, append_files, args.seed)
    cmds = ccusage_commands(args.cache)
    if "ccusage" not in args.skip:
        if not cmds:
            print(f"ccusage not installed under {args.cache}: rerun with --install\n")
        rows += bench_ccusage(home, cmds, args.repeat, args.repeat_slow, manifest)
    poll = None
    if "poller" not in args.skip:
        poll = bench_poller(home, args.repeat, append_files, args.seed)
        if poll is not None:
            rows.append(poll)
    single = args.single.resolve() / "home"
    single_row = None
    if "single" not in args.skip and single.is_dir():
        size = pre_read(single) / (1 << 20)
        data = Path(tempfile.mkdtemp(prefix="lsm-single-"))
        try:
            single_row = Row("ours list: 1 file cold", [run_child(cli_cmd(data), home_env(single))],
                             f"one {size:.0f} MiB transcript")
        finally:
            shutil.rmtree(data, ignore_errors=True)
        rows.append(single_row)
        if "ccusage20" in cmds and "ccusage" not in args.skip:
            cmd = [*cmds["ccusage20"], "session", "--json", "--offline"]
            rows.append(Row("ccusage20: 1 file", [run_child(cmd, home_env(single))],
                            f"one {size:.0f} MiB transcript"))
    print_table(rows)

    by = {r.name: r for r in rows}
    cold, warm = by.get("ours list: cold"), by.get("ours list: warm")
    print("\nratios (best times of this run):")
    print(ratio_line("warm / ccusage 20", warm, by.get("ccusage20"), 0.5))
    print(ratio_line("cold / ccusage 20", cold, by.get("ccusage20"), 2.0))
    print(ratio_line("cold / ccusage 18", cold, by.get("ccusage18"), 0.3))
    if poll is not None:
        figures = json.loads(poll.note)
        value = figures["warm_s"] / figures["cold_s"]
        verdict = "ok" if value <= 0.01 else "MISSED"
        print(f"{'poll warm / poll cold':<28} {value * 100:6.2f}% (target <= 1%) {verdict}")
        if "append_s" in figures:
            share = figures["append_s"] / figures["cold_s"] * 100
            kib = figures["append_bytes_read"] / 1024
            print(f"{'poll +10 appended / cold':<28} {share:6.2f}% (read {kib:.0f} KiB; no target)")
    if single_row is not None:
        verdict = "ok" if single_row.rss < 200 else "MISSED"
        print(f"{'600 MB transcript peak RSS':<28} {single_row.rss:6.0f} MB (target < 200 MB) "
              f"{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
