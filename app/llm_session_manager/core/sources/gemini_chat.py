"""What one Gemini CLI chat file says, gathered record by record.

Gemini CLI 0.61 writes `session-<time>-<id8>.jsonl`: a header line (`sessionId`, `projectHash`,
`startTime`, `kind`), then message records (`{id, timestamp, type, content, ...}`) and `{"$set":
{...}}` patches. What the real client showed (formats.md §9), and how it is handled here:

* a reply with a tool call is written twice under one message id, first without and then with its
  `toolCalls`: a later record with a known id replaces the earlier one in place (counted once);
* `--resume` appends a second header and a `$set` of `messages` that replays the history in a
  shorter shape (no `tokens`, no `toolCalls`): replayed entries only fill in what a known message
  lacks, so nothing is counted twice and nothing known is lost;
* `{"$rewindTo": id}` drops that message and the ones after it from the conversation; the tokens
  they were billed for stay in the usage (they were spent), kept apart in `rewound`.

Tokens are kept raw, `[input, output, cached, thoughts, tool, total]` as Gemini reports them, and
converted in `gemini_tokens.py`. The older single-document `session-*.json` shape feeds its
messages into the same ledger through `gemini_legacy.py`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from llm_session_manager.core.sources.accumulator_state import (
    check_version,
    restore_fields,
    versioned_copy,
)
from llm_session_manager.core.sources.gemini_legacy import LegacyScanner
from llm_session_manager.core.sources.gemini_tokens import RAW_KEYS, raw_tokens

STATE_VERSION = 1
RECENT_ERRORS = 20
MESSAGE_CHARS = 300
PROMPT_CHARS = 2000
FAILED_IDS_KEPT = 64
# Statuses of a finished tool call; anything else (scheduled, executing, ...) is still running.
_FINAL_TOOL_STATUSES = frozenset({"success", "error", "cancelled"})
# The CLI's own first message: the environment it hands the model, not something the user typed.
_SESSION_CONTEXT = "<session_context>"
_WORKSPACE_DIR = re.compile(r"Workspace Directories:\*\*\n\s*- (?P<dir>[^\n]+)")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parts_text(content: Any) -> str | None:
    """Text of a message's content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content or None
    if not isinstance(content, list):
        return None
    texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(texts) or None


class ChatAccumulator:
    """Facts of one Gemini chat file. `legacy` selects the single-JSON-document shape."""

    def __init__(self, legacy: bool = False) -> None:
        self.legacy = legacy
        self.scanner: LegacyScanner | None = LegacyScanner() if legacy else None
        # header
        self.session_id: str | None = None
        self.project_hash: str | None = None
        self.start_time: str | None = None
        self.kind: str | None = None
        self.workspace_dir: str | None = None
        # patches
        self.last_updated: str | None = None
        self.summary: str | None = None
        self.model: str | None = None  # of the latest reply that names one
        # message id -> compact entry: {"t": "g"|"u"|"e", "ts", ...} in conversation order
        self.msgs: dict[str, dict[str, Any]] = {}
        self.rewound: dict[str, list[int]] = {}  # model -> raw tokens of rewound replies
        self.first_prompt: str | None = None
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        # errors
        self.tool_errors = 0
        self.failed_ids: list[str] = []
        self.recent_errors: list[str] = []
        self.last_error: str | None = None
        self.turn_hint: str | None = None

    # ---- state -----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k != "scanner"}
        state["scanner"] = self.scanner.dump() if self.scanner is not None else None
        return versioned_copy(state, STATE_VERSION)

    @classmethod
    def restore(cls, state: dict[str, Any]) -> ChatAccumulator:
        check_version(state, STATE_VERSION, "gemini")
        acc = cls(bool(state.get("legacy")))

        def scanner(value: Any) -> None:
            acc.scanner = None if value is None else LegacyScanner.restore(value)

        restore_fields(acc, state, "gemini", set(vars(acc)), {"scanner": scanner})
        return acc

    # ---- feeding ---------------------------------------------------------------------------

    def feed(self, line: bytes) -> None:
        if self.scanner is not None:
            self.scanner.feed(line, self._on_document_item)
            return
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise ValueError("line is not a JSON object")
        self.on_record(record)

    def _on_document_item(self, key: str, value: Any) -> None:
        """One top-level member of a legacy document; `messages` arrives one element at a time."""
        if key == "messages":
            if isinstance(value, dict):
                self._on_message(value, replay=False)
        else:
            self._on_header({key: value})

    def on_record(self, record: dict[str, Any]) -> None:
        patch = record.get("$set")
        if isinstance(patch, dict):
            self._on_patch(patch)
            return
        rewind = record.get("$rewindTo")
        if isinstance(rewind, str):
            self._rewind(rewind)
            return
        if isinstance(record.get("id"), str) and isinstance(record.get("type"), str):
            self._on_message(record, replay=False)
        elif "sessionId" in record or "projectHash" in record:
            self._on_header(record)
        elif isinstance(record.get("messages"), list):  # a whole legacy document on one line
            self._on_header(record)
            for message in record["messages"]:
                if isinstance(message, dict):
                    self._on_message(message, replay=False)

    def _on_header(self, header: dict[str, Any]) -> None:
        # A resumed session writes a second header: the first one says when it started.
        self.session_id = self.session_id or _text(header.get("sessionId"))
        self.project_hash = self.project_hash or _text(header.get("projectHash"))
        self.start_time = self.start_time or _text(header.get("startTime"))
        self.kind = self.kind or _text(header.get("kind"))
        self.summary = _text(header.get("summary")) or self.summary
        updated = _text(header.get("lastUpdated"))
        if updated:
            self._stamp(updated)
            self.last_updated = updated
        dirs = header.get("directories")
        if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
            self.workspace_dir = self.workspace_dir or dirs[0]

    def _on_patch(self, patch: dict[str, Any]) -> None:
        messages = patch.get("messages")
        if isinstance(messages, list):
            for message in messages:
                if isinstance(message, dict):
                    self._on_message(message, replay=True)
        self._on_header({k: v for k, v in patch.items() if k != "messages"})

    def _stamp(self, ts: str) -> None:
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts

    def _on_message(self, msg: dict[str, Any], replay: bool) -> None:
        msg_id = _text(msg.get("id"))
        kind = msg.get("type")
        ts = _text(msg.get("timestamp"))
        if msg_id is None or kind not in ("user", "gemini", "error"):
            return  # info and warning lines say nothing this monitor needs
        if ts is not None:
            self._stamp(ts)
        old = self.msgs.get(msg_id)
        if kind == "gemini":
            self._on_reply(msg_id, msg, ts, old, replay)
        elif kind == "user":
            if old is None:
                self._on_user(msg_id, msg, ts, replay)
        elif old is None:
            text = parts_text(msg.get("content")) or "API error"
            self.msgs[msg_id] = {"t": "e", "ts": ts}
            self._remember(text[:MESSAGE_CHARS], ts)
            if not replay:
                self.turn_hint = "turn_done"

    def _on_user(self, msg_id: str, msg: dict[str, Any], ts: str | None, replay: bool) -> None:
        text = parts_text(msg.get("content"))
        if text is not None and text.startswith(_SESSION_CONTEXT):
            match = _WORKSPACE_DIR.search(text)
            if match and self.workspace_dir is None:
                self.workspace_dir = match.group("dir").strip()
            text = None
        # Parts without text are tool results going back to the model, not prompts.
        self.msgs[msg_id] = {"t": "u", "ts": ts, "p": text is not None}
        if text is not None and self.first_prompt is None:
            self.first_prompt = text[:PROMPT_CHARS]
        if not replay and msg_id:
            self.turn_hint = "working"

    def _on_reply(
        self,
        msg_id: str,
        msg: dict[str, Any],
        ts: str | None,
        old: dict[str, Any] | None,
        replay: bool,
    ) -> None:
        tokens = raw_tokens(msg.get("tokens"))
        model = _text(msg.get("model"))
        calls = msg.get("toolCalls")
        calls = calls if isinstance(calls, list) else []
        has_text = parts_text(msg.get("content")) is not None
        if model is not None and (not replay or self.model is None):
            self.model = model
        if old is None:
            self.msgs[msg_id] = {"t": "g", "ts": ts, "k": tokens, "m": model}
        else:
            # The later record wins; a replayed copy only fills in what the known one lacks.
            if tokens is not None and (not replay or old.get("k") is None):
                old["k"] = tokens
            if model is not None and (not replay or old.get("m") is None):
                old["m"] = model
        pending = False
        for call in calls:
            if isinstance(call, dict):
                pending |= self._on_tool_call(call, ts)
        if replay:
            return
        if pending:
            self.turn_hint = "tool_running"
        elif has_text and not calls:
            self.turn_hint = "turn_done"
        else:
            self.turn_hint = "working"  # a tool call on its way, or results going back

    def _on_tool_call(self, call: dict[str, Any], ts: str | None) -> bool:
        """Count a failed call once; True when the call is still running."""
        status = call.get("status")
        if status == "error":
            call_id = _text(call.get("id"))
            if call_id is None or call_id not in self.failed_ids:
                if call_id is not None:
                    self.failed_ids = [*self.failed_ids, call_id][-FAILED_IDS_KEPT:]
                self.tool_errors += 1
                name = _text(call.get("displayName")) or _text(call.get("name")) or "tool"
                detail = _text(call.get("resultDisplay"))
                message = f"{name} failed" + (f": {detail}" if detail else "")
                self._remember(message[:MESSAGE_CHARS], _text(call.get("timestamp")) or ts)
        return isinstance(status, str) and status not in _FINAL_TOOL_STATUSES

    def _remember(self, message: str, ts: str | None) -> None:
        self.last_error = message
        if ts is not None:
            self.recent_errors = [*self.recent_errors, ts][-RECENT_ERRORS:]

    def _rewind(self, msg_id: str) -> None:
        if msg_id not in self.msgs:
            return
        ids = list(self.msgs)
        for dropped in ids[ids.index(msg_id):]:
            entry = self.msgs.pop(dropped)
            tokens = entry.get("k")
            if entry["t"] == "g" and tokens is not None:
                model = entry.get("m") or ""
                held = self.rewound.get(model, [0] * len(RAW_KEYS))
                self.rewound[model] = [h + t for h, t in zip(held, tokens, strict=True)]
        self.turn_hint = "turn_done"

    # ---- read-outs for build ---------------------------------------------------------------

    @property
    def prompts(self) -> int:
        return sum(1 for e in self.msgs.values() if e["t"] == "u" and e.get("p"))

    @property
    def replies(self) -> int:
        return sum(1 for e in self.msgs.values() if e["t"] == "g")

    @property
    def api_errors(self) -> int:
        return sum(1 for e in self.msgs.values() if e["t"] == "e")

    def replies_with_tokens(self) -> list[tuple[str | None, list[int]]]:
        """(model, raw tokens) of every reply still in the conversation, in order."""
        return [(e.get("m"), e["k"]) for e in self.msgs.values()
                if e["t"] == "g" and e.get("k") is not None]
