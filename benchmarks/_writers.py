"""Writers that copy real-client record lines into new sessions with fresh identities.

`ClaudeSession` writes Claude Code transcripts as copies of whole real transcripts (each copy is
what a `--resume` appends); `CodexSession` writes a rollout header followed by copied turns.
Both keep the numbers they invent, so the expected totals of every session are known.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from _shapes import (
    ORDINAL_RE,
    ClaudeTemplate,
    Clock,
    CodexTemplate,
    Ids,
    Remapper,
    cut,
    encode_project_dir,
    load_claude_templates,
    load_codex_templates,
    text_corpus,
)


@dataclass
class ClaudeTotals:
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    messages: int = 0  # distinct (message.id, requestId) pairs with usage
    compactions: int = 0


@dataclass
class CodexTotals:
    input: int = 0
    cached_input: int = 0
    output: int = 0
    reasoning: int = 0
    total: int = 0


class Gen:
    """Shared state of one run: the seeded randomness, the templates and the text corpus."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.claude_mains, self.claude_sub = load_claude_templates()
        self.codex = load_codex_templates()
        self.codex_turns = [(t, turn) for t in self.codex for turn in t.turns]
        self.corpus = text_corpus(random.Random(seed + 1))

    def output_size(self) -> int:
        """Tool output sizes are heavy-tailed: mostly a few KB, now and then a whole file."""
        return min(int(self.rng.lognormvariate(math.log(5000), 1.0)), 150_000)


def _write(fh: IO[str], line: str) -> int:
    fh.write(line)
    fh.write("\n")
    return len(line) + 1  # ASCII estimate; the bytes on disk are counted once per file


class ClaudeSession:
    """Writes one Claude Code transcript as a sequence of template copies (resumed turns)."""

    def __init__(self, g: Gen, sid: str, cwd: str, clock: Clock, context: int = 9000) -> None:
        self.g, self.sid, self.cwd, self.clock = g, sid, cwd, clock
        self.enc = encode_project_dir(cwd)
        self.cwd_json = json.dumps(cwd)[1:-1]
        self.context = context  # tokens in the window: grows per request, drops on a compact
        self.totals = ClaudeTotals()

    def pick(self) -> ClaudeTemplate:
        mains = self.g.claude_mains
        want_compact = self.context > 150_000 or self.g.rng.random() < 0.06
        pool = [t for t in mains if t.has_compact == want_compact] or mains
        return self.g.rng.choice(pool)

    def write_round(self, fh: IO[str], tpl: ClaudeTemplate, fixed: dict[str, str],
                    only_conversation: bool = False) -> int:
        remap = Remapper(self.g.ids, {tpl.session_id: self.sid, **fixed})
        usage_by_msg: dict[tuple[str, str], dict[str, int]] = {}
        tpl_cwd = json.dumps(tpl.cwd)[1:-1]
        tpl_enc = encode_project_dir(tpl.cwd)
        written = 0
        for raw in tpl.lines:
            if only_conversation and not ('"type":"assistant"' in raw or '"type":"user"' in raw):
                continue
            line = remap.apply(raw, agent_ids=True)
            line = line.replace(tpl_cwd, self.cwd_json).replace(tpl_enc, self.enc)
            if '"timestamp":' in line:
                line = self.clock.stamp(line)
            if '"usage"' in line or '"tool_result"' in line or "compact_boundary" in line:
                d = orjson.loads(line)
                if self._mutate(d, usage_by_msg):
                    line = orjson.dumps(d).decode()
            written += _write(fh, line)
        return written

    def _mutate(self, d: dict[str, Any], usage_by_msg: dict[tuple[str, str], dict[str, int]]
                ) -> bool:
        msg = d.get("message")
        if d.get("type") == "assistant" and isinstance(msg, dict) and "usage" in msg:
            if msg.get("model") == "<synthetic>":
                return False  # API-error placeholder: the client writes zero usage
            key = (msg.get("id", ""), d.get("requestId", ""))
            numbers = usage_by_msg.get(key)
            if numbers is None:  # first line of a streamed message: new request, new usage
                numbers = usage_by_msg[key] = self._draw_usage()
            u = msg["usage"]
            u.update(numbers)
            if isinstance(u.get("cache_creation"), dict):
                created = numbers["cache_creation_input_tokens"]
                u["cache_creation"]["ephemeral_5m_input_tokens"] = created
                u["cache_creation"]["ephemeral_1h_input_tokens"] = 0
            return True
        content = msg.get("content") if isinstance(msg, dict) else None
        if d.get("type") == "user" and isinstance(content, list):
            return self._pad_tool_results(d, content)
        if d.get("subtype") == "compact_boundary":
            meta = d.get("compactMetadata") or {}
            meta["preTokens"] = self.context
            self.context = self.g.rng.randint(8_000, 25_000)
            self.totals.compactions += 1
            return True
        return False

    def _draw_usage(self) -> dict[str, int]:
        rng, t = self.g.rng, self.totals
        numbers = {
            "input_tokens": rng.randint(1, 60),
            "cache_creation_input_tokens": rng.randint(100, 4_000),
            "cache_read_input_tokens": self.context,
            "output_tokens": rng.randint(5, 1_500),
        }
        self.context += numbers["cache_creation_input_tokens"] + numbers["output_tokens"]
        t.input += numbers["input_tokens"]
        t.output += numbers["output_tokens"]
        t.cache_creation += numbers["cache_creation_input_tokens"]
        t.cache_read += numbers["cache_read_input_tokens"]
        t.messages += 1
        return numbers

    def _pad_tool_results(self, d: dict[str, Any], content: list[Any]) -> bool:
        changed = False
        for item in content:
            if not isinstance(item, dict) or item.get("type") != "tool_result":
                continue
            if item.get("is_error"):
                continue  # errors stay short, as the client writes them
            text = cut(self.g.rng, self.g.corpus, self.g.output_size())
            if isinstance(item.get("content"), str):
                item["content"] = text
            elif isinstance(item.get("content"), list) and item["content"]:
                item["content"][0]["text"] = text
            # The client keeps its own copy of the output next to the API-shaped one.
            tur = d.get("toolUseResult")
            if isinstance(tur, dict) and "stdout" in tur:
                tur["stdout"] = text
            changed = True
        return changed


class CodexSession:
    """Writes one Codex rollout: a template header, then turns copied from all templates."""

    def __init__(self, g: Gen, sid: str, cwd: str, clock: Clock) -> None:
        self.g, self.sid, self.cwd, self.clock = g, sid, cwd, clock
        self.cwd_json = json.dumps(cwd)[1:-1]
        self.ordinal = 0
        self.context = g.rng.randint(7_000, 9_000)
        self.thread = CodexTotals()
        self.turn = CodexTotals()
        self.last = CodexTotals()

    def write_lines(self, fh: IO[str], tpl: CodexTemplate, lines: list[str]) -> int:
        remap = Remapper(self.g.ids, {tpl.session_id: self.sid})
        tpl_cwd = json.dumps(tpl.cwd)[1:-1]
        written = 0
        for raw in lines:
            line = remap.apply(raw).replace(tpl_cwd, self.cwd_json)
            line = self.clock.stamp(line)
            line = ORDINAL_RE.sub(f'"ordinal":{self.ordinal}', line, count=1)
            self.ordinal += 1
            if '"type":"task_started"' in line:
                self.turn = CodexTotals()
            elif ('"token_usage_record"' in line or '"token_count"' in line
                  or '"function_call_output"' in line):
                d = orjson.loads(line)
                if self._mutate(d):
                    line = orjson.dumps(d).decode()
            written += _write(fh, line)
        return written

    def _mutate(self, d: dict[str, Any]) -> bool:
        p = d.get("payload")
        if not isinstance(p, dict):
            return False
        if d.get("type") == "token_usage_record":
            self._draw()
            p["usage"] = _codex_usage(self.last)
            p["turn_token_usage"] = _codex_usage(self.turn)
            p["thread_token_usage"] = _codex_usage(self.thread)
            return True
        if p.get("type") == "token_count" and isinstance(p.get("info"), dict):
            p["info"]["total_token_usage"] = _codex_usage(self.thread)
            p["info"]["last_token_usage"] = _codex_usage(self.last)
            return True
        if p.get("type") == "function_call_output" and isinstance(p.get("output"), str):
            p["output"] += cut(self.g.rng, self.g.corpus, self.g.output_size())
            return True
        return False

    def _draw(self) -> None:
        rng = self.g.rng
        inp = self.context
        out = rng.randint(10, 2_500)
        last = CodexTotals(inp, int(inp * rng.uniform(0.4, 0.95)) // 128 * 128, out,
                           int(out * rng.uniform(0, 0.6)), inp + out)
        self.context = inp + rng.randint(200, 6_000) if inp < 200_000 else 20_000
        self.last = last
        for acc in (self.turn, self.thread):
            for k, v in asdict(last).items():
                setattr(acc, k, getattr(acc, k) + v)


def _codex_usage(t: CodexTotals) -> dict[str, int]:
    return {"input_tokens": t.input, "cached_input_tokens": t.cached_input,
            "cache_write_input_tokens": 0, "output_tokens": t.output,
            "reasoning_output_tokens": t.reasoning, "total_tokens": t.total}



def _session_of(path: Path) -> tuple[str, str]:
    """The sessionId and cwd a transcript's own lines carry (read from its first lines only)."""
    with open(path, "rb") as fh:
        for raw in fh:
            d = orjson.loads(raw)
            if "sessionId" in d and "cwd" in d:
                return d["sessionId"], d["cwd"]
    raise ValueError(f"{path}: no line with sessionId and cwd")


def turn_template(g: Gen) -> ClaudeTemplate:
    """The real transcript with the most assistant lines (streamed duplicates, a tool call)."""
    plain = [t for t in g.claude_mains if not t.has_compact]
    return max(plain, key=lambda t: sum('"type":"assistant"' in ln for ln in t.lines))


@contextmanager
def appended(paths: list[Path], g: Gen, at: datetime) -> Iterator[int]:
    """Append one real-shaped turn to each transcript, as a live session would; undo on exit.

    Undoing (truncate to the old size, old mtime) keeps the generated history equal to its
    manifest, so benchmarks can be rerun on it.
    """
    before = [(p, p.stat()) for p in paths]
    tpl = turn_template(g)
    total = 0
    try:
        for p in paths:
            sid, cwd = _session_of(p)
            with open(p, "a", encoding="utf-8", newline="\n") as fh:
                session = ClaudeSession(g, sid, cwd, Clock(g.rng, at), context=60_000)
                session.write_round(fh, tpl, {}, only_conversation=True)
            total += p.stat().st_size - dict(before)[p].st_size
        yield total
    finally:
        for p, st in before:
            os.truncate(p, st.st_size)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
