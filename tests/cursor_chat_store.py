"""Builds cursor-agent chat stores (`~/.cursor/chats/<md5(workspace)>/<id>/store.db`) as the CLI
lays them out, for the tests.

No public sample store exists. The shape is the one formats.md §3.3 and public readers give:
`blobs(id TEXT PRIMARY KEY, data BLOB)` with `id` the SHA-256 of `data`; `meta(key, value)` with
key "0" holding the hex of a JSON object (`agentId`, `latestRootBlobId`, `name`, `mode`,
`createdAt`, `lastUsedModel`, `workspacePath`); JSON message blobs; a protobuf root whose field 1
repeats the 32-byte ids of its children (here a linking blob holds the earlier messages, as a
conversation tree does), field 9 the workspace URI, and a context breakdown message (total,
window, entries `{1: name, 2: label, 3: tokens, 4: characters}`). The database is in WAL mode.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

SYSTEM = {"role": "system", "content": "You are a coding agent."}


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def breakdown(parts: Sequence[tuple[str, int]], window: int) -> bytes:
    """The context snapshot: total at field 1, window at 2, one entry per part at 3."""
    entries = b"".join(
        field_bytes(3, field_bytes(1, name.encode()) + field_bytes(2, name.title().encode())
                    + (field_varint(3, tokens) if tokens else b"")
                    + field_varint(4, tokens * 4))
        for name, tokens in parts
    )
    return field_varint(1, sum(t for _n, t in parts)) + field_varint(2, window) + entries


@dataclass(frozen=True)
class Store:
    db: Path
    folder: Path
    root_id: str


def workspace_hash(workspace: str) -> str:
    return hashlib.md5(workspace.encode()).hexdigest()


def write_store(
    chats: Path,
    session_id: str,
    workspace: str,
    messages: Sequence[dict[str, Any]],
    *,
    meta: dict[str, Any] | None = None,
    context: Sequence[tuple[str, int]] | None = (("system_prompt", 480), ("tools", 11592),
                                                 ("conversation", 6621)),
    window: int = 200_000,
    meta_json: dict[str, Any] | None = None,
    mtime: datetime | None = None,
) -> Store:
    """A store of `messages` (system prompt first, as the CLI writes it); `meta` overrides the
    metadata fields. Leaves the connection closed and the WAL checkpointed into the file."""
    folder = chats / workspace_hash(workspace) / session_id
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.db"
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB)")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        root_id = _write_tree(conn, [SYSTEM, *messages], workspace, context, window)
        doc = {"agentId": session_id, "latestRootBlobId": root_id, "name": "New Agent",
               "mode": "default", "createdAt": 1_781_256_145_540,
               "lastUsedModel": "claude-4.5-sonnet", "workspacePath": workspace, **(meta or {})}
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('0', ?)",
                     (json.dumps(doc).encode().hex(),))
        conn.commit()
    finally:
        conn.close()
    if meta_json is not None:
        (folder / "meta.json").write_text(json.dumps(meta_json))
    if mtime is not None:
        for path in folder.iterdir():
            os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return Store(db, folder, root_id)


def _put(conn: sqlite3.Connection, data: bytes) -> bytes:
    digest = hashlib.sha256(data).digest()
    conn.execute("INSERT OR IGNORE INTO blobs (id, data) VALUES (?, ?)", (digest.hex(), data))
    return digest


def _write_tree(
    conn: sqlite3.Connection, messages: Sequence[dict[str, Any]], workspace: str,
    context: Sequence[tuple[str, int]] | None, window: int,
) -> str:
    ids = [_put(conn, json.dumps(m, separators=(",", ":")).encode()) for m in messages]
    # The earlier messages sit under a linking blob of their own, the newest two at the root.
    head, tail = ids[:-2], ids[-2:]
    children = [_put(conn, b"".join(field_bytes(1, i) for i in head))] if head else []
    root = b"".join(field_bytes(1, i) for i in [*children, *tail])
    root += field_bytes(9, ("file://" + workspace).encode())
    if context is not None:
        root += field_bytes(5, field_bytes(2, breakdown(context, window)))
    return _put(conn, root).hex()


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def reply(text: str, model: str = "claude-4.5-sonnet") -> dict[str, Any]:
    return {"id": "1", "role": "assistant", "content": [
        {"type": "text", "text": text, "providerOptions": {"cursor": {"modelName": model}}}]}


def call(tool: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"id": "1", "role": "assistant", "content": [
        {"type": "reasoning", "text": "Let me look.", "signature": "c2ln"},
        {"type": "tool-call", "toolCallId": call_id, "toolName": tool, "args": args}]}


def result(tool: str, call_id: str, output: Any, *, error: bool = False) -> dict[str, Any]:
    return {"role": "tool", "id": call_id, "content": [
        {"type": "tool-result", "toolName": tool, "toolCallId": call_id, "result": output,
         "isError": error}]}
