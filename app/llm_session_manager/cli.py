"""The command line: headless commands over the same core the tray app uses.

`llm-session-manager` with no command starts the tray app; every other command runs one poll
(reading only what changed since the last run) and answers without Qt.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llm_session_manager import __version__
from llm_session_manager.core.errors import AppError
from llm_session_manager.paths import AppPaths

if TYPE_CHECKING:
    from llm_session_manager.core.actions import Actions
    from llm_session_manager.core.models import Problem, Session, Snapshot
    from llm_session_manager.core.poller import Poller

log = logging.getLogger(__name__)

STATES = ("active", "waiting", "idle", "ended", "imported", "live")


class Context:
    """What every command needs, built once from the global options."""

    def __init__(self, args: argparse.Namespace) -> None:
        from llm_session_manager.config import load_config

        self.args = args
        if args.data_dir:
            self.paths = AppPaths.under(Path(args.data_dir).expanduser())
        else:
            self.paths = AppPaths.from_platformdirs()
        if args.config:
            self.paths = AppPaths(Path(args.config).expanduser(), self.paths.data_dir)
        self.config, self.config_problems = load_config(self.paths.config_file)
        self._poller: Poller | None = None

    def poller(self) -> Poller:
        if self._poller is None:
            from llm_session_manager.core.poller import build_poller

            self.paths.data_dir.mkdir(parents=True, exist_ok=True)
            self._poller = build_poller(self.paths, self.config, os.environ, Path.home())
        return self._poller

    def actions(self) -> Actions:
        from llm_session_manager.core.actions import Actions

        return Actions(self.poller())

    def poll(self, *, advise: bool = False) -> Snapshot:
        """One poll; advice (recommendations, usage windows) only for the commands that show it."""
        return self.poller().poll_once(advise=advise)

    def find(self, snapshot: Snapshot, text: str) -> Session:
        from llm_session_manager.core.lookup import resolve

        key = resolve(text, (s.key for s in snapshot.sessions))
        return next(s for s in snapshot.sessions if s.key == key)


def _print_problems(problems: Sequence[Problem], limit: int = 5) -> None:
    for problem in problems[:limit]:
        print(f"warning: {problem.where}: {problem.message}", file=sys.stderr)
    if len(problems) > limit:
        print(f"warning: {len(problems) - limit} more problems (see `info`)", file=sys.stderr)


# -- commands --------------------------------------------------------------------------------


def cmd_list(ctx: Context) -> int:
    from llm_session_manager.core import report
    from llm_session_manager.core.models import LIVE_STATES

    args = ctx.args
    snapshot = ctx.poll()
    sessions = list(snapshot.sessions)
    if args.status:
        wanted = set(args.status)
        sessions = [
            s for s in sessions
            if s.state in wanted or ("live" in wanted and s.state in LIVE_STATES)
        ]
    if args.agent:
        sessions = [s for s in sessions if s.key.agent in args.agent]
    if args.tag:
        sessions = [s for s in sessions if set(args.tag) <= set(s.tags)]
    if args.project:
        sessions = [s for s in sessions if (s.project or "").lower() == args.project.lower()]
    if not args.all:
        sessions = [s for s in sessions if not s.hidden]
    if args.format == "json":
        import orjson

        # One serialisation and one write: json.dump's many small writes cost more than the poll.
        sys.stdout.flush()
        sys.stdout.buffer.write(
            orjson.dumps([report.session_json(s) for s in sessions], option=orjson.OPT_INDENT_2)
            + b"\n"
        )
        sys.stdout.buffer.flush()
    else:
        width = max(80, _terminal_width())
        if sessions:
            # Colour only on a terminal, and never with NO_COLOR (no-color.org).
            colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            print(report.table(sessions, width, colour=colour))
        else:
            print("no sessions found (see `info` for where the app looks)")
    _print_problems([*ctx.config_problems, *snapshot.problems])
    return 0


def cmd_health(ctx: Context) -> int:
    from llm_session_manager.core import report

    snapshot = ctx.poll()
    session = ctx.find(snapshot, ctx.args.id)
    if ctx.args.format == "json":
        print(json.dumps(report.health_json(session.health), indent=2))
    else:
        print(report.health_text(session))
    return 0


def cmd_tag(ctx: Context) -> int:
    session = ctx.find(ctx.poll(), ctx.args.id)
    now = ctx.actions().tag(session.key, ctx.args.tags)
    print(f"{session.key}: tags {', '.join(now) or '(none)'}")
    return 0


def cmd_untag(ctx: Context) -> int:
    session = ctx.find(ctx.poll(), ctx.args.id)
    now, missing = ctx.actions().untag(session.key, ctx.args.tags)
    print(f"{session.key}: tags {', '.join(now) or '(none)'}")
    if missing:
        print(f"warning: not tagged with {', '.join(missing)}", file=sys.stderr)
    return 0


def cmd_set_project(ctx: Context) -> int:
    session = ctx.find(ctx.poll(), ctx.args.id)
    name = ctx.actions().set_project(session.key, ctx.args.name)
    print(f"{session.key}: project {name or '(from its folder)'}")
    return 0


def cmd_init_config(ctx: Context) -> int:
    from llm_session_manager.config import write_default_config

    path = ctx.paths.config_file
    if path.exists() and not ctx.args.force:
        raise AppError(f"{path} exists; use --force to replace it")
    write_default_config(path, force=ctx.args.force)
    print(f"wrote {path}")
    return 0


def cmd_show_config(ctx: Context) -> int:
    import yaml

    from llm_session_manager.config import config_to_dict

    print(f"# effective config (file: {ctx.paths.config_file}"
          f"{'' if ctx.paths.config_file.exists() else ', not present: defaults'})")
    print(yaml.safe_dump(config_to_dict(ctx.config), sort_keys=False).rstrip())
    _print_problems(ctx.config_problems, limit=50)
    return 0


def _require_display() -> None:
    """Qt aborts the process when it finds no display; say what to do instead, before it starts."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise AppError(
            "no desktop display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the tray app "
            "cannot start here; the command line works without one (`list`, `health ID`, "
            "`recommend`, `info`), and QT_QPA_PLATFORM=offscreen runs the app headless"
        )


def cmd_tray(ctx: Context) -> int:
    _require_display()
    from llm_session_manager.ui.app import run_app

    return run_app(ctx.paths, ctx.config, ctx.config_problems, open_window=False)


def cmd_monitor(ctx: Context) -> int:
    _require_display()
    from llm_session_manager.ui.app import run_app

    return run_app(
        ctx.paths, ctx.config, ctx.config_problems, open_window=True, interval_s=ctx.args.interval
    )


def cmd_info(ctx: Context) -> int:
    from llm_session_manager.cli_info import info_text

    print(info_text(ctx))
    return 0


def _terminal_width() -> int:
    # COLUMNS first (as `ls` and friends do: a script or pager can ask for a width), then the
    # terminal, else 80.
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


# -- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-session-manager",
        description="Monitor AI coding sessions: exact tokens, context fill, health and cost.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test", action="store_true",
        help="check this installation over bundled samples (no user files touched) and exit",
    )
    parser.add_argument("--data-dir", help="keep the database and config under this folder")
    parser.add_argument("--config", help="the YAML config file to use")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list sessions")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--status", action="append", choices=STATES, help="only this state (repeat)")
    p.add_argument("--agent", action="append", help="only this agent (repeat)")
    p.add_argument("--tag", action="append", help="only sessions with this tag (repeat: all)")
    p.add_argument("--project", help="only this project")
    p.add_argument("--all", action="store_true", help="include hidden sessions")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("health", help="a session's health, factor by factor")
    p.add_argument("id")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("tag", help="add tags to a session")
    p.add_argument("id")
    p.add_argument("tags", nargs="+")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("untag", help="remove tags from a session")
    p.add_argument("id")
    p.add_argument("tags", nargs="+")
    p.set_defaults(func=cmd_untag)

    p = sub.add_parser("set-project", help="name a session's project ('' to reset)")
    p.add_argument("id")
    p.add_argument("name")
    p.set_defaults(func=cmd_set_project)

    p = sub.add_parser("init-config", help="write a commented default config file")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_init_config)

    p = sub.add_parser("show-config", help="print the effective config")
    p.set_defaults(func=cmd_show_config)

    p = sub.add_parser("monitor", help="open the window (starts the tray app if needed)")
    p.add_argument("--interval", type=float, help="poll every N seconds (overrides the config)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("info", help="version, paths, roots and problems (for bug reports)")
    p.set_defaults(func=cmd_info)

    from llm_session_manager.cli_advice import register as register_advice

    register_advice(sub)
    from llm_session_manager.cli_handoff import register as register_handoff

    register_handoff(sub)
    from llm_session_manager.cli_autostart import register as register_autostart

    register_autostart(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        from llm_session_manager.selftest import run_self_test

        return run_self_test()
    func: Callable[[Context], int] = cmd_tray if args.command is None else args.func
    if func not in (cmd_tray, cmd_monitor):
        # A one-shot command builds its sessions once and exits: the cyclic collector's passes
        # over the objects it keeps (facts, sessions, cursors) were a fifth of a warm `list`.
        # Reference counting still frees everything that is not a cycle.
        gc.disable()
    try:
        ctx = Context(args)
        return func(ctx)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
