"""`export` and `import-context`: hand a session's context to a file, and take one back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llm_session_manager.cli import Context


def cmd_export(ctx: Context) -> int:
    args = ctx.args
    session = ctx.find(ctx.poll(), args.id)
    result = ctx.actions().export(session.key, Path(args.output), args.format, not args.no_redact)
    if args.no_redact:
        redaction = "not redacted: the file may contain secrets"
    else:
        redaction = f"{result.redacted} secrets redacted"
    source = "stored import" if result.from_import else "agent record"
    print(f"exported {result.key} to {result.path} ({result.format}, {result.turns} turns from "
          f"the {source}; {redaction})")  # fmt: skip
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    return 0


def cmd_import_context(ctx: Context) -> int:
    args = ctx.args
    result = ctx.actions().import_context(Path(args.file), args.session_id, args.overwrite)
    verb = "replaced" if result.replaced else "imported"
    print(f"{verb} {result.key} ({result.turns} turns): {result.title or '(untitled)'}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export", help="write a session's context (report, conversation, continuation brief)"
    )
    p.add_argument("id")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    p.add_argument(
        "--format",
        choices=("json", "yaml", "markdown"),
        help="default: from the file's extension (.json, .yaml/.yml, .md)",
    )
    p.add_argument(
        "--no-redact", action="store_true", help="keep API keys, tokens and passwords as they are"
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import-context", help="import a session exported as JSON or YAML")
    p.add_argument("file")
    p.add_argument("--session-id", metavar="NEW", help="import under this session ID")
    p.add_argument(
        "--overwrite", action="store_true", help="replace a session that has the same ID"
    )
    p.set_defaults(func=cmd_import_context)
