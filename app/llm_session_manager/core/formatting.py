"""Pure formatting of a session's cells and tooltips for the window (no Qt, no I/O).

The table model calls these from `data()`, so they must stay cheap; tests call them without Qt.
Token counts use `report.short_tokens` so the window and the CLI write the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from llm_session_manager.config import HealthConfig
from llm_session_manager.core.health import level_for
from llm_session_manager.core.models import LIVE_STATES, HealthLevel, Problem, Session, Usage
from llm_session_manager.core.report import marked_tokens, short_tokens
from llm_session_manager.core.root_status import RootStatus

DASH = "—"

AGENT_LABELS = {
    "claude-code": "Claude Code",
    "codex": "Codex",
    "cursor": "Cursor",
    "copilot-vscode": "Copilot (VS Code)",
    "copilot-cli": "Copilot CLI",
    "gemini": "Gemini CLI",
    "opencode": "opencode",
}

# Order of the state column when sorted: what needs the user first.
STATE_ORDER = {"waiting": 0, "active": 1, "idle": 2, "ended": 3, "imported": 4}

_WINDOW_SOURCES = {
    "record": "the agent's record",
    "table": "the model table",
    "observed": "an observed prompt larger than the table's window",
}


def agent_label(agent: str) -> str:
    return AGENT_LABELS.get(agent, agent)


def short_version(version: str | None) -> str | None:
    """"2.1.197" -> "2.1": the release line is what tells clients apart at a glance; the full
    version goes where there is room for it (a tooltip, the JSON)."""
    if not version:
        return None
    return ".".join(version.split(".")[:2])


def agent_with_version(agent: str, version: str | None) -> str:
    """"Claude Code 2.1", or just "Claude Code" when the records name no version."""
    short = short_version(version)
    return f"{agent_label(agent)} {short}" if short else agent_label(agent)


def short_id(session_id: str, length: int = 8) -> str:
    return session_id[:length]


def window_title_for(session: Session | None, app_name: str = "LLM Session Manager") -> str:
    """"LLM Session Manager — claude-code:81c214e6": an X11 test reads it with xdotool."""
    if session is None:
        return app_name
    return f"{app_name} — {session.key.agent}:{short_id(session.key.session_id)}"


def token_cell(usage: Usage) -> str:
    """`38.8k`, or `~88k` when the figure was counted with a tokenizer rather than reported."""
    return marked_tokens(usage)


def token_tooltip(usage: Usage) -> str:
    how = (
        "counted with a tokenizer (the agent's records carry no usage): an approximation"
        if usage.source == "counted"
        else "exact, from the agent's own usage records"
    )
    lines = [f"{usage.total:,} tokens, {how}",
             f"input {usage.input:,} · output {usage.output:,}",
             f"cache write {usage.cache_creation:,} · cache read {usage.cache_read:,}"]
    if usage.reasoning:
        lines.append(f"reasoning {usage.reasoning:,} (part of output)")
    return "\n".join(lines)


def context_cell(session: Session) -> str:
    fill = session.facts.context.fill
    return DASH if fill is None else f"{fill * 100:.0f}%"


def context_tooltip(session: Session) -> str:
    ctx = session.facts.context
    if ctx.fill is None or ctx.tokens is None or ctx.window is None:
        return "The agent's records do not tell how full the context window is."
    window_from = _WINDOW_SOURCES.get(ctx.window_source, "unknown")
    lines = [f"{ctx.tokens:,} of {ctx.window:,} tokens in the window ({ctx.fill:.0%})",
             f"window size from {window_from}"]
    if ctx.compactions:
        lines.append(compaction_text(session))
    return "\n".join(lines)


def compaction_text(session: Session) -> str:
    ctx = session.facts.context
    if not ctx.compactions:
        return "no compactions"
    word = "compaction" if ctx.compactions == 1 else "compactions"
    text = f"{ctx.compactions} {word}"
    if ctx.last_pre_tokens is not None and ctx.last_post_tokens is not None:
        text += (f"; the last one went from {short_tokens(ctx.last_pre_tokens)} "
                 f"to {short_tokens(ctx.last_post_tokens)} tokens")
    return text


def fill_level(fill: float | None, hc: HealthConfig) -> HealthLevel | None:
    """The level a context fill alone earns, by the health config's own ramp and thresholds,
    so the bar turns amber and red where the tokens factor (and with it the tray) does."""
    if fill is None:
        return None
    if fill <= hc.fill_ok:
        score = 100.0
    elif fill >= hc.fill_bad:
        score = 0.0
    else:
        score = 100.0 * (hc.fill_bad - fill) / (hc.fill_bad - hc.fill_ok)
    return level_for(score, hc)


def cost_cell(cost_usd: float | None) -> str:
    if cost_usd is None:
        return DASH
    if cost_usd == 0 or cost_usd >= 0.01:
        return f"${cost_usd:.2f}"
    return "<$0.01"


def cost_tooltip(cost_usd: float | None) -> str:
    if cost_usd is None:
        return "No price known for this model (add it to the price table in the config)."
    return f"${cost_usd:.4f}: an estimate from the price table, not a bill"


def health_cell(session: Session) -> str:
    return DASH if session.health is None else f"{session.health.score:.0f}"


def health_tooltip(session: Session) -> str:
    h = session.health
    if h is None:
        return "no health computed"
    lines = [f"Health {h.score:.0f}: {h.level}"]
    lines += [f"{f.name}: {f.reason} → {f.score:.0f}" for f in h.factors]
    return "\n".join(lines)


def state_tooltip(session: Session) -> str:
    if session.imported:
        return "imported from a file; no agent records"
    live = session.live
    parts = [live.state + (f" ({live.detail})" if live.detail else "")]
    if live.pids:
        pids = ", ".join(str(p) for p in live.pids)
        parts.append(f"pid {pids}, matched by {live.mapping}")
    return "\n".join(parts)


def relative_time(then: datetime | None, now: datetime) -> str:
    """"now", "2m", "3h", "4d": the age of the last activity at the snapshot's time."""
    if then is None:
        return DASH
    seconds = (_aware(now) - _aware(then)).total_seconds()
    if seconds < 60:
        return "now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def absolute_time(value: datetime | None) -> str:
    """Local wall-clock time, to the second (the tooltip of a relative time)."""
    if value is None:
        return "unknown"
    return _aware(value).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def timestamp(value: datetime | None) -> float:
    return 0.0 if value is None else _aware(value).timestamp()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def counts_text(sessions: Iterable[Session]) -> str:
    """"4 live · 11 ended" (and "· 2 imported" when there are any); hidden ones are not counted."""
    live = ended = imported = 0
    for s in sessions:
        if s.hidden:
            continue
        if s.imported:
            imported += 1
        elif s.live.state in LIVE_STATES:
            live += 1
        else:
            ended += 1
    text = f"{live} live · {ended} ended"
    return text + (f" · {imported} imported" if imported else "")


def search_text(session: Session) -> str:
    """What the search box matches, lower-cased: title, project, id and tags."""
    return " ".join(
        (session.facts.title or "", session.project or "", str(session.key), *session.tags)
    ).lower()


def home_relative(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def empty_state_text(roots: Sequence[RootStatus] | None, home: Path) -> str:
    """The window's text when there is no session: where it looks, what it found, what to start.

    `roots` None: not known yet (no poll has said), so only the advice is given."""
    start = "Start Claude Code, Codex, Cursor, Copilot or Gemini CLI and they appear here."
    if roots is None:
        return f"No sessions yet.\n{start}"
    if not roots:
        return f"No sessions yet. No agent is enabled in the config.\n{start}"
    where = ", ".join(f"{home_relative(r.path, home)} ({_found_text(r)})" for r in roots)
    return f"No sessions yet. Looking in: {where}.\n{start}"


def _found_text(root: RootStatus) -> str:
    if not root.found:
        return "not found"
    if not root.files:
        return "no files"
    return f"{root.files} file{'' if root.files == 1 else 's'}"


def filtered_empty_text(
    state_filter: str, held_back: Mapping[str, int], narrowed: bool, total: int
) -> str:
    """The window's text when sessions exist but the filters hide every one, saying which
    filter to change. `held_back`: the sessions, by state, that only the state filter hides;
    `narrowed`: a search, agent or tag filter is set; `total`: the sessions there are."""
    ended = held_back.get("ended", 0)
    others = sum(held_back.values())
    if narrowed:
        lead = f"No {state_filter} session matches the search and filters."
    else:
        lead = f"No {state_filter} sessions."
    them = "it" if (ended if state_filter == "live" else others) == 1 else "them"
    if state_filter == "live" and ended:
        does = (" one does" if ended == 1 else " ones do") if narrowed else ""
        return f"{lead} {ended} ended{does} — tick “show ended” to see {them}."
    if state_filter not in ("live", "all") and others:
        does = (" matches" if others == 1 else " match") if narrowed else ""
        where = "another state" if others == 1 else "other states"
        return f"{lead} {others} in {where}{does} — choose State “All” to see {them}."
    word = "session" if total == 1 else "sessions"
    return f"No session matches the search and filters ({total} {word} in all)."


BRIEF_HEADING = "## Continuation brief"


def brief_from_markdown(markdown: object) -> str | None:
    """The continuation brief inside a Markdown export: the fenced block of its section (or
    the section's text when it has no fence). None when the export has no such section."""
    if not isinstance(markdown, str):
        return None
    lines = markdown.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == BRIEF_HEADING) + 1
    except StopIteration:
        return None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start:end]
    opening = next((i for i, line in enumerate(section) if line.lstrip().startswith("```")), None)
    if opening is not None:
        fence = section[opening].strip()
        ticks = fence[: len(fence) - len(fence.lstrip("`"))]
        closing = next(
            (i for i in range(opening + 1, len(section)) if section[i].strip() == ticks),
            len(section),
        )
        body = section[opening + 1 : closing]
    else:
        body = section
    text = "\n".join(body).strip()
    return text or None


def problem_text(problem: Problem) -> str:
    """A problem as the window's problem bar lists it."""
    count = f" (×{problem.count})" if problem.count > 1 else ""
    return f"{problem.where}: {problem.message}{count}"
