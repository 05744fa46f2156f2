"""Real-client record shapes used as templates, and the fresh identities put into copies of them.

The templates are the transcripts the real Claude Code and Codex CLIs wrote in
tests/data/real-clients/home. A copy keeps every line's shape and only gets new ids,
timestamps, usage numbers and payload sizes, so a benchmark reads what a user's disk holds.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_HOME = REPO / "tests" / "data" / "real-clients" / "home"

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The mock servers minted these; real APIs use the prefixes with base62 bodies.
API_ID_RE = re.compile(r"(msg|req|toolu|resp|call|fc)_mock_?[0-9a-f]+")
AGENT_ID_RE = re.compile(r"\ba[0-9a-f]{16}\b")
TS_RE = re.compile(r'"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')
ORDINAL_RE = re.compile(r'"ordinal":\d+')
_B62 = string.digits + string.ascii_letters


def encode_project_dir(cwd: str) -> str:
    """Claude Code's folder name for a cwd: every character outside [A-Za-z0-9] becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Ids:
    """Fresh, seeded identities in the shapes the real services use."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid4(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"

    def uuid7(self, at: datetime) -> str:
        """Codex names threads with time-ordered UUIDv7s; keep that so paths sort by time."""
        ms = f"{int(at.timestamp() * 1000):012x}"
        r = f"{self.rng.getrandbits(80):020x}"
        variant = "89ab"[int(r[3], 16) & 3]
        return f"{ms[:8]}-{ms[8:12]}-7{r[:3]}-{variant}{r[4:7]}-{r[7:19]}"

    def b62(self, n: int) -> str:
        return "".join(self.rng.choice(_B62) for _ in range(n))

    def api_id(self, prefix: str) -> str:
        if prefix == "req":
            return "req_011C" + self.b62(20)
        if prefix in ("msg", "toolu"):
            return f"{prefix}_01" + self.b62(22)
        return f"{prefix}_" + f"{self.rng.getrandbits(96):024x}"

    def agent_id(self) -> str:
        return "a" + f"{self.rng.getrandbits(64):016x}"


class Remapper:
    """Maps every id of one template copy to a fresh id, the same one each time it recurs.

    One instance per copy ("round"): lines of a round reference each other (parentUuid,
    tool_use_id, message.id across streamed duplicates) and must keep doing so.
    """

    def __init__(self, ids: Ids, fixed: dict[str, str] | None = None) -> None:
        self.ids = ids
        self.map: dict[str, str] = dict(fixed or {})

    def _uuid(self, m: re.Match[str]) -> str:
        old = m.group(0)
        new = self.map.get(old)
        if new is None:
            new = self.map[old] = self.ids.uuid4()
        return new

    def _api(self, m: re.Match[str]) -> str:
        old = m.group(0)
        new = self.map.get(old)
        if new is None:
            new = self.map[old] = self.ids.api_id(m.group(1))
        return new

    def _agent(self, m: re.Match[str]) -> str:
        old = m.group(0)
        new = self.map.get(old)
        if new is None:
            new = self.map[old] = self.ids.agent_id()
        return new

    def apply(self, line: str, agent_ids: bool = False) -> str:
        line = UUID_RE.sub(self._uuid, line)
        line = API_ID_RE.sub(self._api, line)
        if agent_ids:
            line = AGENT_ID_RE.sub(self._agent, line)
        return line


class Clock:
    """A session's wall clock: each line a little later than the one before."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.now = start

    def tick(self, lo: float = 0.02, hi: float = 4.0) -> str:
        self.now += timedelta(seconds=self.rng.uniform(lo, hi))
        return iso(self.now)

    def stamp(self, line: str) -> str:
        ts = f'"timestamp":"{self.tick()}"'
        return TS_RE.sub(ts, line)


@dataclass
class ClaudeTemplate:
    path: Path
    session_id: str
    cwd: str
    lines: list[str]
    has_compact: bool


@dataclass
class CodexTemplate:
    path: Path
    session_id: str
    cwd: str
    header: list[str]
    turns: list[list[str]] = field(default_factory=list)


def _first_cwd(lines: list[str]) -> str:
    m = next(re.search(r'"cwd":"([^"]+)"', ln) for ln in lines if '"cwd":"' in ln)
    assert m is not None
    return m.group(1)


def load_claude_templates(home: Path = REAL_HOME) -> tuple[list[ClaudeTemplate], ClaudeTemplate]:
    """The main transcripts, and one subagent transcript."""
    mains: list[ClaudeTemplate] = []
    sub: ClaudeTemplate | None = None
    for path in sorted((home / ".claude" / "projects").rglob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        is_sub = path.parent.name == "subagents"
        sid = path.parent.parent.name if is_sub else path.stem
        tpl = ClaudeTemplate(
            path, sid, _first_cwd(lines), lines, any("compact_boundary" in ln for ln in lines)
        )
        if is_sub:
            sub = tpl
        else:
            mains.append(tpl)
    if not mains or sub is None:
        raise SystemExit(f"no Claude Code templates under {home}")
    return mains, sub


def load_codex_templates(home: Path = REAL_HOME) -> list[CodexTemplate]:
    """Rollouts split into the header (up to the first turn) and turns (task_started..complete)."""
    out: list[CodexTemplate] = []
    for path in sorted((home / ".codex" / "sessions").rglob("rollout-*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        sid = path.stem[-36:]
        tpl = CodexTemplate(path, sid, _first_cwd(lines), [])
        turn: list[str] | None = None
        for ln in lines:
            if '"type":"task_started"' in ln:
                turn = [ln]
            elif turn is None:
                tpl.header.append(ln)
            else:
                turn.append(ln)
                if '"type":"task_complete"' in ln:
                    tpl.turns.append(turn)
                    turn = None
        out.append(tpl)
    if not out:
        raise SystemExit(f"no Codex templates under {home}")
    return out


def text_corpus(rng: random.Random, size: int = 1 << 20) -> str:
    """Source-code-like text that tool results are cut from (file reads, command output)."""
    words = ["value", "result", "config", "session", "tokens", "path", "record", "index",
             "offset", "buffer", "window", "health", "parser", "cursor", "store", "event"]
    parts: list[str] = []
    n = 0
    while n < size:
        a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
        kind = rng.random()
        if kind < 0.15:
            ln = f"def {a}_{b}({c}: int, {a}: str | None = None) -> dict[str, int]:"
        elif kind < 0.3:
            ln = f"    # {a} {b} {c}: keep the {c} until the {a} is flushed ({rng.randint(1, 999)})"
        else:
            ln = f"    {a}_{b} = {c}.get(\"{a}\", {rng.randint(0, 65535)}) + len({b}_{c})"
        parts.append(ln)
        n += len(ln) + 1
    return "\n".join(parts)


def cut(rng: random.Random, corpus: str, size: int) -> str:
    size = min(size, len(corpus) - 1)
    start = rng.randrange(0, len(corpus) - size)
    return corpus[start : start + size]


def start_times(rng: random.Random, n: int, last: datetime) -> list[datetime]:
    """Session starts over the 23 days before `last` (November 2026, like the samples)."""
    first = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    span = max((last - first).total_seconds() - 86400, 3600)
    return sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(n))
