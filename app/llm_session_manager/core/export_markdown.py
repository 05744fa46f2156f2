"""The Markdown form of an export document: a readable report, then the brief, then the transcript.

Made from the document alone (never from a live Session), so an imported session renders exactly
as it did where it was exported. The document has passed `core.importer` validation or was just
built by `core.export`, so its fields have the documented types.
"""

from __future__ import annotations

from typing import Any

# Code fences longer than any run of backticks in the text, so output cannot close them early.
_FENCE_MIN = 3


def markdown(document: dict[str, Any]) -> str:
    session: dict[str, Any] = document["session"]
    facts: dict[str, Any] = session["facts"]
    conversation: dict[str, Any] = document["conversation"]
    title = facts.get("title") or facts.get("first_prompt") or session["session_id"]
    out: list[str] = [f"# Session report: {_inline(title)}", ""]
    out += _metadata(document, session, facts)
    out += ["", "## Figures", ""]
    out += _figures(session, facts)
    notes = session.get("notes")
    if notes:
        out += ["", "## Notes", "", notes]
    out += ["", "## Continuation brief", "", "Paste the block below as the first prompt of a fresh "
            "session.", "", _fenced(document["brief"].rstrip("\n"), "markdown")]  # fmt: skip
    out += ["", "## Conversation", ""]
    if conversation.get("note"):
        out += [f"_{conversation['note']}._", ""]
    turns = conversation["turns"]
    if not turns:
        out.append("(no turns recorded)")
    for turn in turns:
        out += _turn(turn)
    return "\n".join(out).rstrip("\n") + "\n"


def _metadata(
    document: dict[str, Any], session: dict[str, Any], facts: dict[str, Any]
) -> list[str]:
    redaction = document["redaction"]
    if redaction["applied"]:
        redacted = f"{redaction['count']} secrets redacted"
    else:
        redacted = "not redacted: may contain secrets"
    rows = [
        ("Session", f"`{session['agent']}:{session['session_id']}`"),
        ("State at export", session.get("state")),
        ("Project", session.get("project")),
        ("Tags", ", ".join(session.get("tags") or []) or None),
        ("Folder", f"`{facts['cwd']}`" if facts.get("cwd") else None),
        ("Git branch", facts.get("git_branch")),
        ("Model", facts.get("model")),
        ("Started", facts.get("started_at")),
        ("Last activity", facts.get("last_activity_at")),
        ("Exported", f"{document['exported_at']} by {document['exported_by']}"),
        ("Redaction", redacted),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows if value not in (None, "")]
    return lines


def _figures(session: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    usage = facts.get("usage") or {}
    context = facts.get("context") or {}
    errors = facts.get("errors") or {}
    total = sum(int(usage.get(k) or 0) for k in ("input", "output", "cache_creation", "cache_read"))
    lines = [
        f"- Tokens: {total:,} ({usage.get('input', 0):,} input, {usage.get('output', 0):,} output, "
        f"{usage.get('cache_read', 0):,} cache read, {usage.get('cache_creation', 0):,} cache "
        f"write; {usage.get('source', 'exact')})",
        f"- Prompts: {facts.get('prompts', 0)}, replies: {facts.get('replies', 0)}",
    ]
    if context.get("tokens") is not None:
        window = context.get("window")
        share = f" of {window:,}" if window else ""
        lines.append(f"- Context: {context['tokens']:,}{share} tokens, "
                     f"{context.get('compactions', 0)} compactions")  # fmt: skip
    lines.append(f"- Errors: {errors.get('tool', 0)} tool, {errors.get('api', 0)} API")
    if session.get("cost_usd") is not None:
        lines.append(f"- Estimated cost: ${session['cost_usd']:.4f}")
    health = session.get("health")
    if health:
        lines.append(f"- Health: {health['score']:.0f}/100 ({health['level']})")
        lines += [f"  - {f['name']}: {f['raw']}: {f['reason']}" for f in health["factors"]]
    return lines


def _turn(turn: dict[str, Any]) -> list[str]:
    role = turn["role"]
    who = {
        "user": "User", "assistant": "Assistant", "tool_call": "Tool call",
        "tool_result": "Tool result", "error": "Error", "compaction": "Compaction",
        "system": "System",
    }.get(role, role)  # fmt: skip
    if turn.get("subagent"):
        who = f"Subagent · {who}"
    if turn.get("tool"):
        who += f" `{turn['tool']}`"
    if turn.get("is_error") and role != "error":
        who += " (failed)"
    when = f" · {turn['timestamp']}" if turn.get("timestamp") else ""
    lines = [f"### {who}{when}", ""]
    if turn.get("tool_input"):
        lines += [_fenced(turn["tool_input"], ""), ""]
    text = turn.get("text") or ""
    if text:
        if role in ("tool_result", "tool_call"):
            lines += [_fenced(text, ""), ""]
        else:
            lines += [text, ""]
    return lines


def _fenced(text: str, lang: str) -> str:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(_FENCE_MIN, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _inline(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _cell(value: object) -> str:
    return _inline(str(value)).replace("|", "\\|")
