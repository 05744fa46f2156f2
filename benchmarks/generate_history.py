"""Write a large synthetic agent history, line for line in the shapes the real clients write.

Every line is a copy of a line from the real Claude Code and Codex records in
tests/data/real-clients/home, with fresh ids, timestamps, usage numbers and tool-output sizes.
Claude Code's streamed duplicates (several assistant lines per message.id/requestId, each with
the same usage) and compact boundaries come along with the copied turns. The expected token
totals go to OUT/manifest.json, so a reader's figures can be checked against them.

    python benchmarks/generate_history.py                 # 2,000 files, ~200 MB, out/history
    python benchmarks/generate_history.py --out benchmarks/out/single --single-mb 600
    python benchmarks/generate_history.py --out benchmarks/out/history --verify-only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from _shapes import Clock, encode_project_dir, start_times
from _writers import ClaudeSession, ClaudeTotals, CodexSession, Gen

_PROJECT_NAMES = ["api", "web", "cli", "infra", "docs", "ml", "billing", "search", "mobile", "etl"]
_MB = 1 << 20


def _open(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="\n", buffering=_MB)


def _finish(path: Path, end: datetime) -> int:
    os.utime(path, (end.timestamp(), end.timestamp()))  # mtime = last record, as on a real disk
    return path.stat().st_size


def _projects(g: Gen, n: int) -> list[str]:
    names = [f"{g.rng.choice(_PROJECT_NAMES)}-{i:03d}" for i in range(n)]
    # Real folder names carry dots, underscores and spaces (the samples' "my.app_v2 space").
    for i in range(0, n, 7):
        names[i] = f"{names[i]}.app_v{i % 3} space"
    return [f"/home/dev/src/{name}" for name in names]


def generate(out: Path, files: int, target_mb: float, seed: int, codex_share: float,
             subagent_share: float, single: bool) -> dict[str, Any]:
    g = Gen(seed)
    home = out / "home"
    n_codex = 0 if single else round(files * codex_share)
    n_claude = files - n_codex
    n_sub = 0 if single else round(n_claude * subagent_share)
    n_main = n_claude - n_sub
    kinds = ["main"] * n_main + ["sub"] * n_sub + ["codex"] * n_codex
    weights = [g.rng.lognormvariate(0, 1.0) * (0.3 if k == "sub" else 1.0) for k in kinds]
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    starts = start_times(g.rng, len(kinds), now)
    g.rng.shuffle(starts)
    projects = _projects(g, max(3, n_main // 20))
    main_sids: list[tuple[str, str]] = []
    claude_by_session: dict[str, dict[str, int]] = {}
    codex_by_session: dict[str, dict[str, int]] = {}
    remaining_bytes, remaining_weight = target_mb * _MB, sum(weights)
    total_bytes = 0
    t0 = time.perf_counter()
    for i, (kind, weight, start) in enumerate(zip(kinds, weights, starts, strict=True)):
        # Each file takes its share of what is left, so overshoot of earlier files is absorbed.
        target = remaining_bytes * weight / remaining_weight
        remaining_weight -= weight
        clock = Clock(g.rng, start)
        if kind == "codex":
            sid = g.ids.uuid7(start)
            cwd = g.rng.choice(projects)
            stamp = start.strftime("%Y-%m-%dT%H-%M-%S")
            day_dir = home / ".codex/sessions" / start.strftime("%Y/%m/%d")
            path = day_dir / f"rollout-{stamp}-{sid}.jsonl"
            cs = CodexSession(g, sid, cwd, clock)
            with _open(path) as fh:
                tpl = g.rng.choice(g.codex)
                written = cs.write_lines(fh, tpl, tpl.header)
                while written < target or cs.thread.total == 0:
                    ttpl, turn = g.rng.choice(g.codex_turns)
                    written += cs.write_lines(fh, ttpl, turn)
            codex_by_session[sid] = asdict(cs.thread)
        else:
            if kind == "main":
                sid, cwd = g.ids.uuid4(), g.rng.choice(projects)
                main_sids.append((sid, cwd))
                path = home / ".claude/projects" / encode_project_dir(cwd) / f"{sid}.jsonl"
                fixed: dict[str, str] = {}
            else:  # a subagent's file lives under its parent session and carries its sessionId
                sid, cwd = main_sids[(i - n_main) % len(main_sids)]
                agent = g.ids.agent_id()
                sub_dir = home / ".claude/projects" / encode_project_dir(cwd) / sid / "subagents"
                path = sub_dir / f"agent-{agent}.jsonl"
                fixed = {g.claude_sub.path.stem.removeprefix("agent-"): agent}
            cl = ClaudeSession(g, sid, cwd, clock)
            with _open(path) as fh:
                written = 0
                while written < target or cl.totals.messages == 0:
                    tpl = g.claude_sub if kind == "sub" else cl.pick()
                    written += cl.write_round(fh, tpl, fixed)
            if kind == "sub":
                meta = {"agentType": "general-purpose", "description": "synthetic subagent"}
                path.with_suffix(".meta.json").write_text(json.dumps(meta))
            acc = claude_by_session.setdefault(sid, asdict(ClaudeTotals()))
            for k, v in asdict(cl.totals).items():
                acc[k] += v
        size = _finish(path, clock.now)
        remaining_bytes -= size
        total_bytes += size
        if single or (i + 1) % 200 == 0:
            print(f"  {i + 1}/{len(kinds)} files, {total_bytes / _MB:.0f} MB, "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    manifest = {
        "seed": seed, "files": len(kinds), "bytes": total_bytes,
        "claude": {"main_files": n_main, "subagent_files": n_sub,
                   "sessions": len(claude_by_session),
                   "totals": _sum(claude_by_session), "by_session": claude_by_session},
        "codex": {"files": n_codex, "sessions": len(codex_by_session),
                  "totals": _sum(codex_by_session), "by_session": codex_by_session},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _sum(by_session: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in by_session.values():
        for k, v in row.items():
            out[k] = out.get(k, 0) + v
    return out


def verify(out: Path) -> bool:
    """Re-read every file: each line parses, and the totals are the manifest's."""
    manifest = json.loads((out / "manifest.json").read_text())
    home = out / "home"
    claude: dict[str, dict[str, int]] = {}
    seen: set[tuple[str, str]] = set()
    lines = 0
    for path in sorted((home / ".claude/projects").rglob("*.jsonl")):
        with open(path, "rb") as fh:
            for raw in fh:
                d = orjson.loads(raw)
                lines += 1
                msg = d.get("message")
                if d.get("type") != "assistant" or not isinstance(msg, dict) or "usage" not in msg:
                    continue
                key = (msg["id"], d.get("requestId", ""))
                if key in seen or msg.get("model") == "<synthetic>":
                    continue
                seen.add(key)
                u = msg["usage"]
                acc = claude.setdefault(d["sessionId"], {"input": 0, "output": 0,
                                                         "cache_creation": 0, "cache_read": 0})
                acc["input"] += u["input_tokens"]
                acc["output"] += u["output_tokens"]
                acc["cache_creation"] += u["cache_creation_input_tokens"]
                acc["cache_read"] += u["cache_read_input_tokens"]
    codex_out = 0
    for path in sorted((home / ".codex/sessions").rglob("*.jsonl")):
        last = None
        with open(path, "rb") as fh:
            for raw in fh:
                d = orjson.loads(raw)
                lines += 1
                p = d.get("payload") or {}
                if p.get("type") == "token_count" and p.get("info"):
                    last = p["info"]["total_token_usage"]
        codex_out += last["output_tokens"] if last else 0
    ok = True
    for sid, want in manifest["claude"]["by_session"].items():
        got = claude.get(sid, {})
        if any(got.get(k) != want[k] for k in ("input", "output", "cache_creation", "cache_read")):
            print(f"MISMATCH claude {sid}: {got} != {want}")
            ok = False
    if codex_out != manifest["codex"]["totals"].get("output", 0):
        print(f"MISMATCH codex output tokens: {codex_out}")
        ok = False
    print(f"verified {lines} lines; claude sessions {len(claude)}; totals match: {ok}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "history")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--target-mb", type=float, default=200.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--codex-share", type=float, default=0.1)
    ap.add_argument("--subagent-share", type=float, default=0.1,
                    help="share of the Claude Code files that are subagent transcripts")
    ap.add_argument("--single-mb", type=float, default=None,
                    help="write one Claude Code transcript of this size instead")
    ap.add_argument("--verify", action="store_true", help="re-read and check after writing")
    ap.add_argument("--verify-only", action="store_true")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    if args.verify_only:
        return 0 if verify(out) else 1
    if (out / "home").exists():
        if not (out / "manifest.json").exists():
            print(f"{out}/home exists and is not a generated history; not touching it")
            return 2
        shutil.rmtree(out / "home")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.single_mb is not None:
        m = generate(out, 1, args.single_mb, args.seed, 0.0, 0.0, single=True)
    else:
        m = generate(out, args.files, args.target_mb, args.seed, args.codex_share,
                     args.subagent_share, single=False)
    took = time.perf_counter() - t0
    print(f"wrote {m['files']} files, {m['bytes'] / _MB:.1f} MB in {took:.1f} s "
          f"to {out}/home (claude sessions {m['claude']['sessions']}, "
          f"codex sessions {m['codex']['sessions']})")
    return 0 if not args.verify or verify(out) else 1


if __name__ == "__main__":
    raise SystemExit(main())
