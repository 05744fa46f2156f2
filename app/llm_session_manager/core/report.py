"""Pure formatting of sessions for people and programs: the CLI and the window share it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from llm_session_manager.core.models import Health, Session, Usage


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def short_tokens(value: int | None) -> str:
    """312 -> "312", 31_200 -> "31.2k", 312_000 -> "312k", 1_250_000 -> "1.25M"."""
    if value is None:
        return "-"
    if value < 1000:
        return str(value)
    if value < 100_000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    if value < 1_000_000:
        return f"{value // 1000}k"
    return f"{value / 1_000_000:.2f}M".replace(".00M", "M")


def marked_tokens(usage: Usage) -> str:
    """`88k`, or `~88k` when the figure was counted with a tokenizer rather than reported: the
    window's Tokens cell and the CLI table mark it alike (`~1.25M` still fits the table)."""
    text = short_tokens(usage.total)
    return f"~{text}" if usage.source == "counted" else text


def percent(fill: float | None) -> str:
    return "-" if fill is None else f"{fill * 100:.0f}%"


def money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def health_json(health: Health | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "score": round(health.score, 1),
        "level": health.level,
        "factors": [
            {
                "name": f.name,
                "raw": f.raw,
                "score": round(f.score, 1),
                "weight": f.weight,
                "reason": f.reason,
            }
            for f in health.factors
        ],
    }


def session_json(session: Session) -> dict[str, Any]:
    """The documented `list --format json` object."""
    facts = session.facts
    usage = facts.usage
    context = facts.context
    return {
        "id": str(session.key),
        "agent": session.key.agent,
        "session_id": session.key.session_id,
        "title": facts.title,
        "project": session.project,
        "cwd": facts.cwd,
        "git_branch": facts.git_branch,
        "model": facts.model,
        "agent_version": facts.agent_version,
        "state": session.state,
        "state_detail": session.live.detail,
        "pids": list(session.live.pids),
        "live_mapping": session.live.mapping,
        "started_at": iso(facts.started_at),
        "last_activity_at": iso(facts.last_activity_at),
        "tokens": {
            "input": usage.input,
            "output": usage.output,
            "cache_creation": usage.cache_creation,
            "cache_read": usage.cache_read,
            "reasoning": usage.reasoning,
            "total": usage.total,
            "source": usage.source,
        },
        "context": {
            "tokens": context.tokens,
            "window": context.window,
            "window_source": context.window_source,
            "fill": None if context.fill is None else round(context.fill, 4),
            "compactions": context.compactions,
            "last_pre_tokens": context.last_pre_tokens,
            "last_post_tokens": context.last_post_tokens,
        },
        "errors": {"tool": facts.errors.tool, "api": facts.errors.api},
        "prompts": facts.prompts,
        "replies": facts.replies,
        "cost_usd": None if session.cost_usd is None else round(session.cost_usd, 6),
        "cost_is_estimate": True,
        "health": health_json(session.health),
        "tags": list(session.tags),
        "hidden": session.hidden,
        "paths": list(facts.paths),
    }


_AGENT_SHORT = {"claude-code": "claude", "copilot-vscode": "copilot", "copilot-cli": "copilot"}

_LEVEL_SHORT = {"healthy": "ok", "warning": "warn", "critical": "crit"}

# (header, width) of the table after the ID column; the title takes what is left.
_COLUMNS = (("STATE", 7), ("PROJECT", 11), ("TOKENS", 6), ("CTX", 4), ("COST", 7),
            ("HEALTH", 7))


def short_ids(sessions: Sequence[Session], minimum: int = 8) -> dict[str, str]:
    """The shortest prefix (at least `minimum` characters) that tells each session id apart.

    Codex ids are time-ordered UUIDs that share their first 8 characters within minutes, so a fixed
    width would print the same ID for different sessions.
    """
    ids = sorted({s.key.session_id for s in sessions})
    out: dict[str, str] = {}
    for i, sid in enumerate(ids):
        length = minimum
        for other in (ids[i - 1] if i else "", ids[i + 1] if i + 1 < len(ids) else ""):
            common = 0
            while common < min(len(sid), len(other)) and sid[common] == other[common]:
                common += 1
            length = max(length, common + 1)
        out[sid] = sid[:length]
    return out


# ANSI colours for the health cell and a waiting state, only when writing to a terminal.
_LEVEL_COLOUR = {"healthy": "32", "warning": "33", "critical": "31"}
_WAITING_COLOUR = "34"


def _paint(text: str, code: str | None, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def table(sessions: Sequence[Session], width: int = 80, *, colour: bool = False) -> str:
    """A table that reads well in an 80-column terminal (colours are added after padding)."""
    prefixes = short_ids(sessions)
    idents = [
        f"{_AGENT_SHORT.get(s.key.agent, s.key.agent)}:{prefixes[s.key.session_id]}"
        for s in sessions
    ]
    id_width = max([2, *map(len, idents)])
    fixed = id_width + 1 + sum(w for _, w in _COLUMNS) + len(_COLUMNS)
    title_width = max(10, width - fixed)
    header = "ID".ljust(id_width) + " " + " ".join(h.ljust(w) for h, w in _COLUMNS) + " TITLE"
    lines = [header]
    for s, ident in zip(sessions, idents, strict=True):
        level = _LEVEL_SHORT.get(s.health.level, "-") if s.health else "-"
        score = f"{s.health.score:.0f}" if s.health else ""
        cells = (
            s.state,
            s.project or "-",
            marked_tokens(s.facts.usage),
            percent(s.facts.context.fill),
            money(s.cost_usd),
            f"{score} {level}".strip(),
        )
        fitted = [_fit(c, w) for c, (_, w) in zip(cells, _COLUMNS, strict=True)]
        if s.state == "waiting":
            fitted[0] = _paint(fitted[0], _WAITING_COLOUR, colour)
        if s.health is not None:
            fitted[-1] = _paint(fitted[-1], _LEVEL_COLOUR.get(s.health.level), colour)
        row = ident.ljust(id_width) + " " + " ".join(fitted)
        lines.append(row + " " + _fit(s.facts.title or "", title_width).rstrip())
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)


def health_text(session: Session) -> str:
    """`health ID`: each factor with its raw value, sub-score, weight and why."""
    h = session.health
    title = session.facts.title or ""
    lines = [f"{session.key}  {title}".rstrip()]
    if h is None:
        lines.append("no health computed")
        return "\n".join(lines)
    lines.append(f"health {h.score:.0f}/100: {h.level}   (state: {session.state})")
    lines.append(f"{'FACTOR':<10} {'VALUE':<24} {'SCORE':>5} {'WEIGHT':>6}  WHY")
    for f in h.factors:
        lines.append(
            f"{f.name:<10} {_fit(f.raw, 24)} {f.score:>5.0f} {f.weight * 100:>5.0f}%  {f.reason}"
        )
    return "\n".join(lines)
