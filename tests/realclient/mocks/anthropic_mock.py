#!/usr/bin/env python3
# ruff: noqa
# fmt: off
# A verbatim copy of the project's loopback Anthropic mock, kept as is (not reformatted,
# not linted) so that it stays byte-comparable with the original.
"""Loopback mock of the Anthropic Messages API (POST /v1/messages, SSE + JSON).

Scenario triggers in the *last user text*:
  [[tool:bash]]        -> first reply is a tool_use Bash {"command":"ls"}
  [[tool:read-missing]] -> first reply is a tool_use Read of a missing file (tool_result is_error)
  [[apierror]]         -> HTTP 400 invalid_request_error
  [[long]]             -> long-ish text reply
A request whose last user message carries tool_result blocks gets a text reply.
Every request/response is appended to $MOCK_LOG (JSONL).
Listens on 127.0.0.1 only.
"""
import json, os, sys, time, uuid, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = os.environ.get("MOCK_LOG", os.path.join(os.environ.get("TMPDIR", "/tmp"), "anthropic_mock.jsonl"))
_lock = threading.Lock()
_counter = [0]

def log(rec):
    with _lock:
        with open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")

def text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for b in content or []:
        if isinstance(b, dict) and b.get("type") == "text":
            out.append(b.get("text", ""))
    return "\n".join(out)

def has_tool_result(content):
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)

def system_text(sys_):
    if isinstance(sys_, str):
        return sys_
    return "\n".join(b.get("text", "") for b in (sys_ or []) if isinstance(b, dict))

def decide(body):
    msgs = body.get("messages", [])
    users = [m for m in msgs if m.get("role") == "user"]  # newer clients append role:"system" messages after the user turn
    last = users[-1] if users else {"content": ""}
    last_content = last.get("content")
    tools = [t.get("name") for t in body.get("tools", []) or []]
    sys_t = system_text(body.get("system"))
    utext = text_of(last_content)
    # auxiliary calls (no tools): title / topic / command-prefix helpers
    if has_tool_result(last_content):
        res = [b for b in last_content if isinstance(b, dict) and b.get("type") == "tool_result"]
        err = any(b.get("is_error") for b in res)
        return ("text", "The tool call %s. Done." % ("failed as expected" if err else "succeeded"))
    if "[[apierror]]" in utext and tools:
        return ("error", None)
    if "[[tool:bash]]" in utext and "Bash" in tools:
        return ("tool", ("Bash", {"command": "ls", "description": "List files in current directory"}))
    if "[[tool:agent]]" in utext and "Agent" in tools:
        return ("tool", ("Agent", {"description": "Mock subagent task", "prompt": "Say hi from the subagent", "subagent_type": "general-purpose"}))
    # GitHub Copilot CLI (BYOK anthropic) offers lowercase tools
    if "[[tool:bash]]" in utext and "bash" in tools:
        return ("tool", ("bash", {"command": "ls", "description": "List files in current directory"}))
    if "[[tool:read-missing]]" in utext and "view" in tools:
        return ("tool", ("view", {"path": "/nonexistent/definitely-missing.txt"}))
    if "[[tool:read-missing]]" in utext and "Read" in tools:
        return ("tool", ("Read", {"file_path": "/nonexistent/definitely-missing.txt"}))
    if not tools:
        # helper requests. Try to answer plausibly.
        low = (sys_t + utext).lower()
        if "prefix" in low and "command" in low:
            return ("text", "ls")
        if "title" in low or "topic" in low:
            return ("text", '{"isNewTopic": false, "title": "Mock session"}')
        return ("text", "OK")
    if "[[long]]" in utext:
        return ("text", " ".join(["This is a longer mock answer."] * 40))
    return ("text", "Hello from the mock Anthropic server.")

def usage_for(body, out_text_len, n_msgs):
    # deterministic, realistic-looking usage numbers
    _counter[0] += 1
    first = n_msgs <= 1
    cc = 1200 if first else 150 + 10 * n_msgs
    u = {
        "input_tokens": 4 + 3 * n_msgs,
        "cache_creation_input_tokens": cc,
        "cache_read_input_tokens": 0 if first else 9000 + 100 * n_msgs,
        "output_tokens": max(1, out_text_len // 4),
        "service_tier": "standard",
    }
    if os.environ.get("MOCK_NO_CACHE_BREAKDOWN") != "1":
        # the real API also sends the per-TTL split; Claude Code fills zeros when it is absent
        u["cache_creation"] = {"ephemeral_5m_input_tokens": cc, "ephemeral_1h_input_tokens": 0}
    return u

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a):
        pass
    def _send_json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_mock_" + uuid.uuid4().hex[:12])
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        log({"t": time.time(), "method": "GET", "path": self.path, "headers": {k: v for k, v in self.headers.items() if k.lower() not in ("x-api-key", "authorization")}})
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "mock: not found"}})
    def do_HEAD(self):
        self.send_response(200); self.end_headers()
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw or b"{}")
        except Exception:
            body = {"_raw": raw[:2000].decode("utf-8", "replace")}
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("x-api-key", "authorization")}
        path = self.path.split("?")[0]
        if os.environ.get("MOCK_BODY_DIR"):
            _counter[0] += 0
            fn = os.path.join(os.environ["MOCK_BODY_DIR"], "req-%d-%s.json" % (int(time.time()*1000), path.strip("/").replace("/", "_")))
            with open(fn, "w") as f: json.dump(body, f)
        rec = {"t": time.time(), "method": "POST", "path": self.path, "headers": hdrs,
               "model": body.get("model"), "stream": body.get("stream"),
               "n_messages": len(body.get("messages", []) or []),
               "tools": [t.get("name") for t in body.get("tools", []) or []][:80],
               "system_head": system_text(body.get("system"))[:300],
               "last_user": text_of(([m for m in body.get("messages") or [] if m.get("role") == "user"] or [{}])[-1].get("content"))[-300:],
               "roles": [m.get("role") for m in body.get("messages") or []],
               "max_tokens": body.get("max_tokens"), "keys": sorted(body.keys())}
        if path.endswith("/count_tokens"):
            rec["reply"] = "count_tokens"; log(rec)
            return self._send_json(200, {"input_tokens": 42})
        if not path.endswith("/v1/messages"):
            rec["reply"] = "404"; log(rec)
            return self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "mock: not found"}})
        kind, payload = decide(body)
        if body.get("tools") and any("[[slow]]" in text_of(m.get("content")) for m in (body.get("messages") or [])[-3:] if m.get("role") == "user"):
            time.sleep(float(os.environ.get("MOCK_SLOW_S", "10")))  # lets a watcher see the client "busy"
        model = body.get("model", "claude-mock")
        msg_id = "msg_mock" + uuid.uuid4().hex[:18]
        n_msgs = len(body.get("messages", []) or [])
        if kind == "error":
            rec["reply"] = "error400"; log(rec)
            return self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "mock: deliberately rejected request ([[apierror]])"}})
        if kind == "text":
            content = [{"type": "text", "text": payload}]
            stop = "end_turn"
            out_len = len(payload)
        else:
            name, inp = payload
            content = [{"type": "text", "text": "I'll use the %s tool." % name},
                       {"type": "tool_use", "id": "toolu_mock" + uuid.uuid4().hex[:16], "name": name, "input": inp}]
            stop = "tool_use"
            out_len = 120
        usage = usage_for(body, out_len, n_msgs)
        rec.update({"reply": kind, "usage": usage, "stop_reason": stop}); log(rec)
        if not body.get("stream"):
            return self._send_json(200, {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                         "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage})
        # streaming SSE
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("request-id", "req_mock_" + uuid.uuid4().hex[:12])
        self.end_headers()
        def ev(name, obj):
            self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(obj))).encode())
            self.wfile.flush()
        start_usage = dict(usage); start_usage["output_tokens"] = 1
        ev("message_start", {"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                              "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        ev("ping", {"type": "ping"})
        for i, b in enumerate(content):
            if b["type"] == "text":
                ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
                t = b["text"]
                for j in range(0, len(t), 20):
                    ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": t[j:j+20]}})
            else:
                ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}})
                js = json.dumps(b["input"])
                ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": js}})
            ev("content_block_stop", {"type": "content_block_stop", "index": i})
        ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                             "usage": {"output_tokens": usage["output_tokens"]}})
        ev("message_stop", {"type": "message_stop"})

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    print("anthropic mock on 127.0.0.1:%d log=%s" % (port, LOG), flush=True)
    srv.serve_forever()
