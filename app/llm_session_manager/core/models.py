"""Frozen dataclasses that cross every layer: sources -> accounting -> store -> CLI and UI.

Nothing here does I/O. A source turns an agent's records into `SessionFacts` (what the record says);
the poller adds what the machine and the user say (live state, tags, project, cost, health) and
hands out `Session` objects inside a `Snapshot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

UsageSource = Literal["exact", "counted"]
LiveStateName = Literal["active", "waiting", "idle", "ended"]
# The states of a session whose process runs: what the tray colours and notifies about.
LIVE_STATES: tuple[LiveStateName, ...] = ("active", "waiting", "idle")
HealthLevel = Literal["healthy", "warning", "critical"]
MappingMethod = Literal["pid-file", "open-file", "lock-file", "cwd", "none"]


@dataclass(frozen=True, order=True)
class SessionKey:
    """One session of one agent. Claude subagent files belong to their parent's key."""

    agent: str
    session_id: str

    def __str__(self) -> str:
        return f"{self.agent}:{self.session_id}"

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        agent, sep, session_id = text.partition(":")
        if not sep or not agent or not session_id:
            raise ValueError(f"not a session key (want <agent>:<session id>): {text!r}")
        return cls(agent, session_id)


@dataclass(frozen=True)
class Usage:
    """Token counts in the convention ccusage uses, so totals compare.

    input is uncached input; cache_read and cache_creation are separate; reasoning is a part of
    output (Codex reports it separately) and is not added to total again.
    """

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    reasoning: int = 0
    source: UsageSource = "exact"

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def __add__(self, other: Usage) -> Usage:
        source: UsageSource = (
            "counted" if "counted" in (self.source, other.source) else "exact"
        )
        return Usage(
            self.input + other.input,
            self.output + other.output,
            self.cache_creation + other.cache_creation,
            self.cache_read + other.cache_read,
            self.reasoning + other.reasoning,
            source,
        )


@dataclass(frozen=True)
class ModelUsage:
    """Usage of one model inside a session: what the price table is applied to."""

    model: str
    usage: Usage


@dataclass(frozen=True)
class Context:
    """What is in the model's window now: the latest request's prompt size.

    `window` is None when neither the record nor the model table knows it; `window_source` says
    where it came from: "record" (the agent wrote it), "table" (config), "observed" (a prompt
    larger than the table's window means the 1M window), "unknown".
    """

    tokens: int | None = None
    window: int | None = None
    window_source: str = "unknown"
    compactions: int = 0
    last_pre_tokens: int | None = None
    last_post_tokens: int | None = None

    @property
    def fill(self) -> float | None:
        if self.tokens is None or not self.window:
            return None
        return self.tokens / self.window


@dataclass(frozen=True)
class Errors:
    """Errors the record shows. `recent` keeps the newest timestamps (bounded) for health."""

    tool: int = 0
    api: int = 0
    recent: tuple[datetime, ...] = ()
    last_message: str | None = None

    @property
    def total(self) -> int:
        return self.tool + self.api


@dataclass(frozen=True)
class SessionFacts:
    """Everything an agent's own records say about one session."""

    key: SessionKey
    title: str | None = None
    first_prompt: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    model: str | None = None
    # The agent's own version as its records give it ("2.1.197"); None where they do not.
    agent_version: str | None = None
    started_at: datetime | None = None
    last_activity_at: datetime | None = None
    usage: Usage = Usage()
    by_model: tuple[ModelUsage, ...] = ()
    context: Context = Context()
    errors: Errors = Errors()
    prompts: int = 0
    replies: int = 0
    paths: tuple[str, ...] = ()
    # The record's own hint of where the turn stands ("tool_running", "turn_done", "working"),
    # used when no better live signal exists.
    turn_hint: str | None = None
    # The tool the last reply called while its result is not in yet (Claude Code), named in a
    # permission prompt's notification.
    pending_tool: str | None = None
    # Bounded evidence for "merge similar" advice: files the tools touched, words of the prompts.
    files_touched: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # What copies of one history share (Claude Code: its first request, which a forked session's
    # file copies from its parent's): sessions with the same lineage count shared requests once.
    lineage: str | None = None


@dataclass(frozen=True)
class LiveState:
    state: LiveStateName = "ended"
    pids: tuple[int, ...] = ()
    mapping: MappingMethod = "none"
    detail: str | None = None  # e.g. "permission prompt"
    since: datetime | None = None  # when a waiting session started to wait, where the agent says


@dataclass(frozen=True)
class HealthFactor:
    name: str  # tokens | duration | activity | errors | compactions
    raw: str  # the raw value, readable ("182k of 200k")
    score: float  # 0-100
    weight: float  # 0-1
    reason: str


@dataclass(frozen=True)
class Health:
    score: float
    level: HealthLevel
    factors: tuple[HealthFactor, ...] = ()


@dataclass(frozen=True)
class Session:
    """A session as every surface shows it: facts + live state + user data + judgement."""

    facts: SessionFacts
    live: LiveState = LiveState()
    project: str | None = None
    tags: tuple[str, ...] = ()
    cost_usd: float | None = None
    health: Health | None = None
    imported: bool = False
    hidden: bool = False

    @property
    def key(self) -> SessionKey:
        return self.facts.key

    @property
    def state(self) -> str:
        return "imported" if self.imported else self.live.state


@dataclass(frozen=True)
class UsageSample:
    """One point of a session's token and context curve (charts, burn rate)."""

    key: SessionKey
    at: datetime
    total_tokens: int
    context_tokens: int | None = None
    window: int | None = None


RecommendationKind = Literal["restart", "close-idle", "merge", "token-warning", "spend-warning"]


@dataclass(frozen=True)
class Recommendation:
    """Advice a user can act on, with the numbers behind it.

    `id` is stable for the same condition (kind + sessions + threshold), so cooldowns and
    dismissals can refer to it across polls.
    """

    id: str
    kind: RecommendationKind
    keys: tuple[SessionKey, ...]
    title: str
    reason: str
    severity: Literal["info", "warning", "critical"] = "info"
    command: str | None = None  # e.g. the command that starts a fresh session in the same cwd
    brief: str | None = None  # the continuation brief, ready to paste
    resume_command: str | None = None  # e.g. `claude --resume <id>`: back into the session


@dataclass(frozen=True)
class UsageWindow:
    """Tokens and cost of one agent over a rolling window, always an estimate from local records."""

    agent: str
    window: Literal["5h", "week"]
    start: datetime
    end: datetime
    tokens: int
    cost_usd: float | None
    burn_tokens_per_hour: float
    limit_tokens: int | None = None
    projected_run_out: datetime | None = None


@dataclass(frozen=True)
class Problem:
    """Something that could not be read, said with where it is, so a user can act on it."""

    where: str  # a path, "path:line", or "config"
    message: str
    count: int = 1


@dataclass(frozen=True)
class TokensToday:
    """Tokens spent since local midnight, placed in time as the usage windows place them."""

    since: datetime  # local midnight, aware
    tokens: int
    counted: bool  # a session counted with a tokenizer is part of it


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    sessions: tuple[Session, ...] = ()
    problems: tuple[Problem, ...] = ()
    level: HealthLevel | None = None  # worst level among live sessions; None: no live session
    recommendations: tuple[Recommendation, ...] = ()
    usage_windows: tuple[UsageWindow, ...] = ()
    today: TokensToday | None = None  # with the advice; None where none was computed
    bytes_read: int = 0
    files_read: int = 0
    files_seen: int = 0
