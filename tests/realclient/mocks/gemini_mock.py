#!/usr/bin/env python3
# ruff: noqa
# fmt: off
# A verbatim copy of ../shared/tools/mocks/gemini_mock.py (so the tests do not reach outside the repo).
"""Loopback mock of the Gemini API (generativelanguage v1beta) for Gemini CLI via GOOGLE_GEMINI_BASE_URL.
POST /v1beta/models/<m>:streamGenerateContent?alt=sse | :generateContent | :countTokens. 127.0.0.1 only.
Triggers in the latest user text: [[tool:shell]] -> functionCall run_shell_command ls; [[tool:read-missing]] -> read_file of a
missing file; [[apierror]] -> HTTP 400. Structured-output helper calls (responseJsonSchema) get a schema-shaped JSON answer."""
import json, os, sys, time, uuid, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
LOG = os.environ.get("MOCK_LOG", os.path.join(os.environ.get("TMPDIR", "/tmp"), "gemini_mock.jsonl"))
BODY_DIR = os.environ.get("MOCK_BODY_DIR")
_lock = threading.Lock()
def log(rec):
    with _lock, open(LOG, "a") as f: f.write(json.dumps(rec) + "\n")
def from_schema(s):
    if not isinstance(s, dict): return "mock"
    t = s.get("type", "").lower() if isinstance(s.get("type"), str) else ""
    if s.get("enum"): return s["enum"][0]
    if t == "object" or "properties" in s: return {k: from_schema(v) for k, v in (s.get("properties") or {}).items()}
    if t == "array": return [from_schema(s.get("items"))]
    if t in ("integer", "number"): return s.get("minimum", 0)
    if t == "boolean": return False
    return "mock"
def decide(body):
    contents = body.get("contents") or []
    last = contents[-1] if contents else {}
    parts = last.get("parts") or []
    if any("functionResponse" in p for p in parts):
        return ("text", "Tool result received. Done.")
    gc = body.get("generationConfig") or {}
    schema = gc.get("responseJsonSchema") or gc.get("responseSchema")
    if schema:
        return ("text", json.dumps(from_schema(schema)))
    users = [c for c in contents if c.get("role") == "user" and any("text" in p for p in c.get("parts") or [])]
    utext = "\n".join(p.get("text", "") for p in (users[-1]["parts"] if users else []))
    names = [fd.get("name") for t in body.get("tools") or [] for fd in t.get("functionDeclarations") or []]
    if "[[apierror]]" in utext: return ("error", None)
    if "[[tool:shell]]" in utext and "run_shell_command" in names:
        return ("call", ("run_shell_command", {"command": "ls", "description": "list files"}))
    if "[[tool:read-missing]]" in utext and "read_file" in names:
        return ("call", ("read_file", {"file_path": "/nonexistent/definitely-missing.txt", "absolute_path": "/nonexistent/definitely-missing.txt"}))
    return ("text", "Hello from the mock Gemini server.")
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def _json(self, code, obj):
        d = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(d))); self.end_headers(); self.wfile.write(d)
    def do_GET(self):
        log({"t": time.time(), "method": "GET", "path": self.path})
        self._json(404, {"error": {"code": 404, "message": "mock: not found", "status": "NOT_FOUND"}})
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try: body = json.loads(raw or b"{}")
        except Exception: body = {}
        path = self.path
        if BODY_DIR:
            with open(os.path.join(BODY_DIR, "req-%d.json" % int(time.time() * 1000)), "w") as f: json.dump({"path": path, "body": body}, f)
        rec = {"t": time.time(), "path": path, "headers": {k: v for k, v in self.headers.items() if k.lower() not in ("x-goog-api-key",)},
               "keys": sorted(body.keys()), "n_contents": len(body.get("contents") or []),
               "tools": [fd.get("name") for t in body.get("tools") or [] for fd in t.get("functionDeclarations") or []][:40],
               "gen_config": body.get("generationConfig")}
        if ":countTokens" in path:
            rec["reply"] = "countTokens"; log(rec); return self._json(200, {"totalTokens": 42})
        kind, payload = decide(body)
        model = path.split("/models/")[-1].split(":")[0] if "/models/" in path else "gemini-mock"
        usage = {"promptTokenCount": 3000 + 10 * rec["n_contents"], "candidatesTokenCount": 20,
                 "totalTokenCount": 3000 + 10 * rec["n_contents"] + 20 + 12, "cachedContentTokenCount": 1024 if rec["n_contents"] > 1 else 0,
                 "thoughtsTokenCount": 12, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3000 + 10 * rec["n_contents"]}]}
        rec.update({"reply": kind, "model": model, "usage": usage}); log(rec)
        if kind == "error":
            return self._json(400, {"error": {"code": 400, "message": "mock: deliberately rejected ([[apierror]])", "status": "INVALID_ARGUMENT"}})
        if kind == "text": parts = [{"text": payload}]
        else: parts = [{"functionCall": {"name": payload[0], "args": payload[1]}}]
        resp = {"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": usage, "modelVersion": model, "responseId": "mockresp" + uuid.uuid4().hex[:10]}
        if ":streamGenerateContent" in path:
            self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.end_headers()
            self.wfile.write(("data: " + json.dumps(resp) + "\r\n\r\n").encode()); self.wfile.flush(); return
        return self._json(200, resp)
if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18767
    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    print("gemini mock on 127.0.0.1:%d" % port, flush=True); srv.serve_forever()
