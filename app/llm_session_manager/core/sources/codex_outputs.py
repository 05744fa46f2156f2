"""The exit code a Codex tool call's output text reports, for rollouts whose events do not.

Older Codex persists no event for a finished command, so a failure shows only in the
`function_call_output` (or `custom_tool_call_output`) response item sent back to the model. Its
`output` string takes one of three shapes, all written by Codex's own formatters:

- structured (the `shell` tool, `apply_patch`): a JSON text
  `{"output": "...", "metadata": {"exit_code": 1, "duration_seconds": 0.2}}`;
- freeform (`shell_command`): `Exit code: 1\\nWall time: 0.2 seconds\\nOutput:\\n...`;
- unified exec (`exec_command`, `write_stdin`; 0.169 too):
  `Chunk ID: ...\\nWall time: ...\\nProcess exited with code 2\\n...\\nOutput:\\n...`.

The text after `Output:` is the command's own output, so only the lines before it are believed.
Tool outputs are a large share of a rollout's bytes: `may_show_failure` looks at the raw line
so that only the few lines that can report a non-zero exit are parsed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_OUTPUT_KEY = b'"output":"'
# The structured shape, as it appears inside the line (the JSON text is a JSON string there).
_STRUCTURED = b'{\\"output\\":'
_ESCAPED_EXIT_KEY = b'\\"exit_code\\":'
_NONZERO = re.compile(rb"-?[1-9]")
# The header lines sit at the start of the output; a few hundred bytes hold them.
HEADER_BYTES = 512
_FAILED_HEADER = re.compile(rb"(?:Exit code: |Process exited with code )-?[1-9]")
_ESCAPED_HEADER_END = b"\\nOutput:\\n"  # as it appears inside the line
_HEADER_LINE = re.compile(r"(?:Exit code: |Process exited with code )(-?\d+)")
_HEADER_END = "\nOutput:\n"


def may_show_failure(line: bytes) -> bool:
    """Whether a raw tool-output line can report a non-zero exit code (false positives are
    fine: `exit_code` decides on the parsed text). Cheap: it never scans a long output."""
    at = line.find(_OUTPUT_KEY)
    if at < 0:
        return False  # no text output (a list of content items): no exit code to read
    start = at + len(_OUTPUT_KEY)
    if line.startswith(_STRUCTURED, start):
        # The metadata follows the command's output, so it is near the end of the line.
        key = line.rfind(_ESCAPED_EXIT_KEY, start)
        return key >= 0 and _NONZERO.match(line, key + len(_ESCAPED_EXIT_KEY)) is not None
    end = line.find(_ESCAPED_HEADER_END, start, start + HEADER_BYTES)
    return end >= 0 and _FAILED_HEADER.search(line, start, end) is not None


def exit_code(output: Any) -> int | None:
    """The exit code a tool call's `output` reports, or None when it reports none."""
    if not isinstance(output, str) or not output:
        return None
    if output.startswith("{"):
        return _structured_exit_code(output)
    end = output.find(_HEADER_END, 0, HEADER_BYTES)
    if end < 0:
        return None  # not a header Codex wrote: whatever it says is the tool's own text
    for line in output[:end].split("\n"):
        match = _HEADER_LINE.fullmatch(line)
        if match:
            return int(match.group(1))
    return None


def _structured_exit_code(output: str) -> int | None:
    try:
        body = orjson.loads(output)
    except ValueError:
        return None
    metadata = body.get("metadata") if isinstance(body, dict) else None
    code = metadata.get("exit_code") if isinstance(metadata, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None
