"""The continuation brief: a session's state, written to paste as a fresh session's first prompt.

A long session ends (context full, health critical, a restart recommended) but its work does not.
The brief says what the session set out to do, what it did, which files it touched, what went
wrong, and where it stopped, in a few hundred words built only from the session's own record:
nothing is invented, every line comes from a turn or a figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from llm_session_manager.core.conversation import Conversation, Turn, shorten
from llm_session_manager.core.models import Session

GOAL_CHARS = 2_000
ITEM_CHARS = 300
LAST_REPLY_CHARS = 1_500
MAX_LATER_REQUESTS = 8
MAX_COMMANDS = 10
MAX_FILES = 30
MAX_ERRORS = 8
MAX_COMPACTIONS = 5

# Tools that change files, across agents (Claude Code's names, Codex's apply_patch).
_WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch"})
_SHELL_TOOLS = frozenset({"Bash", "exec_command", "shell", "local_shell", "container.exec"})
# Last turns that mean the session stopped mid-step.
_UNFINISHED = {"tool_call": "a tool call", "tool_result": "a tool result", "error": "an error"}


def continuation_brief(session: Session, conversation: Conversation) -> str:
    facts = session.facts
    turns = conversation.turns
    main = [t for t in turns if not t.subagent]
    prompts = [t for t in main if t.role == "user"]
    heading = _one_line(facts.title or facts.first_prompt or str(session.key))
    lines: list[str] = [f"# Continue: {heading}", ""]
    where = f" in `{facts.cwd}`" if facts.cwd else ""
    branch = f" (git branch `{facts.git_branch}`)" if facts.git_branch else ""
    lines += [
        f"You are taking over work from an earlier {session.key.agent} session "
        f"(`{session.key.session_id}`){where}{branch}. The brief below is built from that "
        "session's record. Check the current state of the files before changing anything.",
        "",
        "## Goal",
    ]
    goal = prompts[0].text if prompts else facts.first_prompt
    lines.append(_quote(shorten(goal, GOAL_CHARS)) if goal else "(the record has no prompt)")
    later = prompts[1:]
    if later:
        lines += ["", "Later requests:"]
        shown = later[-MAX_LATER_REQUESTS:]
        if len(later) > len(shown):
            lines.append(f"- … {len(later) - len(shown)} earlier requests")
        lines += [f"- {_one_line(t.text, ITEM_CHARS)}" for t in shown]

    lines += ["", "## What was done"]
    lines += _done(turns, session)

    lines += ["", "## Files touched"]
    lines += _files(turns, facts.files_touched)

    lines += ["", "## Open problems"]
    lines += _problems(turns, session)

    lines += ["", "## Last state"]
    lines += _last_state(main, session)
    if conversation.note:
        lines += ["", f"Note: {conversation.note}."]
    lines += [
        "",
        "Pick up from the last state: first confirm the open problems still apply, then continue "
        "toward the goal.",
    ]
    return "\n".join(lines) + "\n"


def _done(turns: tuple[Turn, ...], session: Session) -> list[str]:
    calls = [t for t in turns if t.role == "tool_call"]
    out: list[str] = []
    facts = session.facts
    out.append(
        f"- {facts.prompts} prompts, {facts.replies} replies, "
        f"{facts.usage.total:,} tokens" + (f", model {facts.model}" if facts.model else "")
    )
    if calls:
        used = Counter(t.tool or "tool" for t in calls)
        out.append("- Tools used: " + ", ".join(f"{n} ×{c}" for n, c in used.most_common()))
        commands = [t.tool_input for t in calls if t.tool in _SHELL_TOOLS and t.tool_input]
        if commands:
            out.append("- Commands run:")
            shown = commands[-MAX_COMMANDS:]
            if len(commands) > len(shown):
                out.append(f"  - … {len(commands) - len(shown)} earlier commands")
            out += [f"  - `{_one_line(c, ITEM_CHARS)}`" for c in shown]
    else:
        out.append("- No tool calls.")
    subagent_turns = sum(1 for t in turns if t.subagent)
    if subagent_turns:
        out.append(f"- Subagents took {subagent_turns} turns.")
    compactions = [t for t in turns if t.role == "compaction"]
    if compactions:
        out.append(f"- Compaction points ({len(compactions)}):")
        out += [f"  - {_when(t)}{_one_line(t.text, ITEM_CHARS)}"
                for t in compactions[-MAX_COMPACTIONS:]]  # fmt: skip
    elif facts.context.compactions:
        out.append(f"- The context was compacted {facts.context.compactions} times.")
    return out


def _files(turns: tuple[Turn, ...], evidence: Iterable[str]) -> list[str]:
    changed: dict[str, None] = {}
    read: dict[str, None] = {}
    for t in turns:
        if t.role != "tool_call":
            continue
        target = changed if t.tool in _WRITE_TOOLS else read
        for path in t.paths:
            target[path] = None
    for path in evidence:
        if path not in changed:
            read.setdefault(path, None)
    read = {p: None for p in read if p not in changed}
    out: list[str] = []
    if changed:
        out.append("- Changed: " + _paths(changed))
    if read:
        out.append("- Read or named: " + _paths(read))
    return out or ["- None recorded."]


def _problems(turns: tuple[Turn, ...], session: Session) -> list[str]:
    failures = [t for t in turns if t.is_error or t.role == "error"]
    out: list[str] = []
    for t in failures[-MAX_ERRORS:]:
        what = "API error" if t.role == "error" else f"{t.tool or 'tool'} failed"
        out.append(f"- {_when(t)}{what}: {_one_line(t.text or 'no message', ITEM_CHARS)}")
    if len(failures) > MAX_ERRORS:
        out.insert(0, f"- … {len(failures) - MAX_ERRORS} earlier errors")
    errors = session.facts.errors
    if not failures and errors.total:
        out.append(f"- {errors.tool} tool errors, {errors.api} API errors"
                   + (f"; last: {_one_line(errors.last_message, ITEM_CHARS)}"
                      if errors.last_message else ""))  # fmt: skip
    return out or ["- None recorded."]


def _last_state(main: list[Turn], session: Session) -> list[str]:
    out: list[str] = []
    last_prompt = next((t for t in reversed(main) if t.role == "user"), None)
    last_reply = next((t for t in reversed(main) if t.role == "assistant"), None)
    if last_prompt is not None:
        out.append(f"- Last request: {_one_line(last_prompt.text, ITEM_CHARS)}")
    if last_reply is not None:
        out += ["- Last reply:", _quote(shorten(last_reply.text, LAST_REPLY_CHARS))]
    if main and main[-1].role in _UNFINISHED:
        tool = f" ({main[-1].tool})" if main[-1].tool else ""
        out.append(f"- The record ends with {_UNFINISHED[main[-1].role]}{tool}.")
    context = session.facts.context
    fill = f", context {context.fill * 100:.0f}% full" if context.fill is not None else ""
    out.append(f"- Session state: {session.state}{fill}.")
    return out


def _when(turn: Turn) -> str:
    return f"{turn.timestamp:%Y-%m-%d %H:%M} " if turn.timestamp is not None else ""


def _paths(paths: dict[str, None]) -> str:
    names = list(paths)
    shown = ", ".join(f"`{p}`" for p in names[:MAX_FILES])
    return shown + (f" and {len(names) - MAX_FILES} more" if len(names) > MAX_FILES else "")


def _one_line(text: str, limit: int = 200) -> str:
    return shorten(" ".join(text.split()), limit)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])
