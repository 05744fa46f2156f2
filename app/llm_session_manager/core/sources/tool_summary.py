"""One line for a tool call's arguments, and the files it names, across agents' argument shapes.

Gemini CLI, Copilot CLI, Cursor and opencode each name a call's target differently (`command`,
`file_path`, `filePath`, `absolute_path`, `path`, ...). The conversation keeps a short summary
of what the call acts on, never the arguments themselves (an edit's arguments are a whole file).
"""

from __future__ import annotations

import orjson

# The most telling field first: a command says more than the description written beside it.
_SUMMARY_FIELDS = (
    "command", "cmd", "file_path", "filePath", "absolute_path", "notebook_path", "path",
    "target_file", "targetFile", "pattern", "query", "url", "description", "prompt",
)  # fmt: skip
_PATH_FIELDS = ("file_path", "filePath", "absolute_path", "notebook_path", "path", "target_file",
                "targetFile")  # fmt: skip


def summarize_args(value: object) -> tuple[str | None, tuple[str, ...]]:
    """(summary, paths) of a call's arguments: a dict, or JSON text of one."""
    if isinstance(value, str):
        text = value
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return (text or None), ()
    if value is None:
        return None, ()
    if not isinstance(value, dict):
        return orjson.dumps(value).decode(), ()
    paths = tuple(dict.fromkeys(
        value[k] for k in _PATH_FIELDS if isinstance(value.get(k), str) and value[k]))
    for name in _SUMMARY_FIELDS:
        field = value.get(name)
        if isinstance(field, str) and field:
            return field, paths
        if name in ("command", "cmd") and isinstance(field, list) and field:
            return " ".join(str(part) for part in field), paths
    return (orjson.dumps(value).decode() if value else None), paths


def result_text(value: object) -> str:
    """A tool result as text: strings as they are, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
