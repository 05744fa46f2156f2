"""The `recommend` and `usage` commands: advice and usage windows from one poll.

`recommend` lists every recommendation that holds now, and marks as new (`"new": true`) those not
shown within `recommend.cooldown_minutes`. Showing them records them as shown, in the same store
the tray uses, so advice seen here is not announced again by the tray within the cooldown; the
list itself is never shortened by the cooldown, because a user who asks wants the whole picture.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from llm_session_manager.core.models import Recommendation, UsageWindow

if TYPE_CHECKING:
    from llm_session_manager.cli import Context

KINDS = ("restart", "close-idle", "merge", "token-warning", "spend-warning")
ESTIMATE_NOTE = (
    "Estimates from local records (the agents' own files on this machine), not the provider's "
    "accounting: usage on other machines or the web is not included; cost uses list prices."
)


def register(sub: Any) -> None:
    """Add the commands to the CLI's subparsers (`sub` is argparse's subparsers action)."""
    p = sub.add_parser("recommend", help="advice: restart, close idle, merge, token and spend")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--kind", action="append", choices=KINDS, help="only this kind (repeat)")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("usage", help="estimated tokens and cost per 5 hours and per week")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_usage)


def cmd_recommend(ctx: Context) -> int:
    from llm_session_manager.core.advice import RecommendationLog

    args: argparse.Namespace = ctx.args
    snapshot = ctx.poll(advise=True)
    recs = list(snapshot.recommendations)
    if args.kind:
        recs = [r for r in recs if r.kind in args.kind]
    cooldown = timedelta(minutes=ctx.config.recommend.cooldown_minutes)
    log = RecommendationLog(cooldown, ctx.poller().store)
    new = {r.id for r in log.fresh(recs, snapshot.taken_at)}
    recs = [_with_brief(ctx, r) for r in recs]
    if args.format == "json":
        json.dump([recommendation_json(r, r.id in new) for r in recs], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not recs:
        print("no recommendations right now")
    else:
        print("\n\n".join(recommendation_text(r, r.id in new) for r in recs))
        minutes = ctx.config.recommend.cooldown_minutes
        print(f"\n(NEW: not shown in the last {minutes:g} minutes; "
              "usage and cost figures are estimates from local records)")
    _warn(ctx, snapshot.problems)
    return 0


def _with_brief(ctx: Context, rec: Recommendation) -> Recommendation:
    """A restart comes with its continuation brief ready (read from the record, redacted)."""
    if rec.kind != "restart" or rec.brief is not None or not rec.keys:
        return rec
    from dataclasses import replace

    from llm_session_manager.core.errors import AppError
    from llm_session_manager.core.handoff import brief_for

    try:
        return replace(rec, brief=brief_for(ctx.poller(), rec.keys[0]))
    except (AppError, OSError) as exc:
        print(f"warning: no brief for {rec.keys[0]}: {exc}", file=sys.stderr)
        return rec


def cmd_usage(ctx: Context) -> int:
    snapshot = ctx.poll(advise=True)
    windows = list(snapshot.usage_windows)
    if ctx.args.format == "json":
        document = {
            "estimate": True,
            "note": ESTIMATE_NOTE,
            "taken_at": snapshot.taken_at.isoformat(),
            "windows": [window_json(w) for w in windows],
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(usage_table(windows))
    _warn(ctx, snapshot.problems)
    return 0


def _warn(ctx: Context, problems: Any) -> None:
    from llm_session_manager.cli import _print_problems

    _print_problems([*ctx.config_problems, *problems])


# -- rendering (pure, tested directly) -------------------------------------------------------


def recommendation_json(rec: Recommendation, new: bool) -> dict[str, Any]:
    return {
        "id": rec.id,
        "kind": rec.kind,
        "severity": rec.severity,
        "new": new,
        "sessions": [str(key) for key in rec.keys],
        "title": rec.title,
        "reason": rec.reason,
        "command": rec.command,
        "resume_command": rec.resume_command,
        "brief": rec.brief,
    }


def recommendation_text(rec: Recommendation, new: bool) -> str:
    lines = [f"[{rec.severity}]{' NEW' if new else ''} {rec.kind}: {rec.title}",
             f"  why: {rec.reason}"]
    if rec.keys:
        lines.append(f"  sessions: {', '.join(str(k) for k in rec.keys)}")
    if rec.command:
        lines.append(f"  start fresh: {rec.command}")
    if rec.resume_command:
        lines.append(f"  resume: {rec.resume_command}")
    if rec.brief:
        lines.append("  continuation brief (paste as the fresh session's first prompt):")
        lines.extend(f"    {line}".rstrip() for line in rec.brief.splitlines())
    return "\n".join(lines)


def window_json(window: UsageWindow) -> dict[str, Any]:
    return {
        "agent": window.agent,
        "window": window.window,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "tokens": window.tokens,
        "cost_usd": window.cost_usd,
        "burn_tokens_per_hour": window.burn_tokens_per_hour,
        "limit_tokens": window.limit_tokens,
        "projected_run_out": _iso(window.projected_run_out),
        "estimate": True,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def usage_table(windows: list[UsageWindow]) -> str:
    from llm_session_manager.core.health import format_tokens

    lines = [f"ESTIMATE. {ESTIMATE_NOTE}", ""]
    if not windows:
        lines.append("no usage in the last 7 days in local records")
        return "\n".join(lines)
    header = ("agent", "window", "tokens", "cost", "burn/h", "limit", "runs out (UTC)")
    rows = [header]
    for w in windows:
        rows.append((
            w.agent,
            "5 hours" if w.window == "5h" else "7 days",
            format_tokens(w.tokens),
            f"${w.cost_usd:.2f}" if w.cost_usd is not None else "no price",
            format_tokens(round(w.burn_tokens_per_hour)),
            format_tokens(w.limit_tokens) if w.limit_tokens else "-",
            _run_out_text(w),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _run_out_text(window: UsageWindow) -> str:
    if window.limit_tokens is None:
        return "- (no limit set)"
    if window.projected_run_out is None:
        return "not at this rate"
    if window.projected_run_out <= window.end:
        return "limit reached"
    return f"{window.projected_run_out:%Y-%m-%d %H:%M}"
