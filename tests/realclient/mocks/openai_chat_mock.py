#!/usr/bin/env python3
"""Loopback mock of the OpenAI Chat Completions API (POST /v1/chat/completions, SSE or JSON) for
clients that speak it, such as opencode through `@ai-sdk/openai-compatible`. 127.0.0.1 only.

Every request is appended to $MOCK_LOG (JSONL) with the usage it was billed, so a test can compare
what the client recorded with what the server reported. The usage has cached prompt tokens (from
the second message on) and reasoning tokens, so every token field of the client is exercised.

Triggers in the latest user message: `[[apierror]]` -> HTTP 400. Requests without tools (title
generation) get a short title; any other text gets a short greeting.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOG = os.environ.get("MOCK_LOG", os.path.join(os.environ.get("TMPDIR", "/tmp"), "chat_mock.jsonl"))
_lock = threading.Lock()


def log(record: dict[str, Any]) -> None:
    with _lock, open(LOG, "a") as f:
        f.write(json.dumps(record) + "\n")


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


def usage_for(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages") or []
    prompt = 1500 + len(json.dumps(messages)) // 4
    cached = (prompt // 2) // 64 * 64 if len(messages) > 2 else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": 20,
        "total_tokens": prompt + 20,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": 6},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, code: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        log({"t": time.time(), "method": "GET", "path": self.path})
        if self.path.split("?")[0].endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "mock-model", "object": "model"}]})
            return
        self._json(404, {"error": {"message": "mock: not found"}})

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?")[0]
        record: dict[str, Any] = {"t": time.time(), "method": "POST", "path": path,
                                  "model": body.get("model"), "stream": body.get("stream"),
                                  "n_messages": len(body.get("messages") or []),
                                  "tools": len(body.get("tools") or [])}
        if not path.endswith("/chat/completions"):
            record["reply"] = "404"
            log(record)
            self._json(404, {"error": {"message": "mock: not found"}})
            return
        users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
        utext = text_of(users[-1]) if users else ""
        if "[[apierror]]" in utext:
            record["reply"] = "error"
            log(record)
            self._json(400, {"error": {"message": "mock: deliberately rejected ([[apierror]])",
                                       "type": "invalid_request_error", "code": "mock_error"}})
            return
        text = "Mock title" if not body.get("tools") else "Hello from the mock chat server."
        usage = usage_for(body)
        record.update(reply="text", usage=usage)
        log(record)
        cid = "chatcmpl-" + uuid.uuid4().hex[:16]
        created = int(time.time())
        model = body.get("model") or "mock-model"
        if not body.get("stream"):
            self._json(200, {"id": cid, "object": "chat.completion", "created": created,
                             "model": model, "usage": usage,
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": text}}]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None, extra: dict[str, Any]) -> None:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created,
                   "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
            self.wfile.flush()

        chunk({"role": "assistant", "content": ""}, None, {})
        chunk({"content": text}, None, {})
        chunk({}, "stop", {})
        # The usage chunk (stream_options.include_usage) has no choices, as OpenAI sends it.
        tail = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [], "usage": usage}
        self.wfile.write(f"data: {json.dumps(tail)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18768
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"chat completions mock on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
