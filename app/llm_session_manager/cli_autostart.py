"""`autostart on|off|status`: start the tray app at login (XDG autostart, LaunchAgent, Run key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llm_session_manager.cli import Context


def register(sub: Any) -> None:
    """Add the command to the CLI's subparsers (`sub` is argparse's subparsers action)."""
    p = sub.add_parser("autostart", help="start the tray app at login: on, off or status")
    p.add_argument("action", choices=("on", "off", "status"))
    p.set_defaults(func=cmd_autostart)


def cmd_autostart(ctx: Context) -> int:
    from llm_session_manager import autostart

    action = ctx.args.action
    if action == "status":
        print(autostart.status().text())
        return 0
    print(autostart.set_enabled(action == "on").text())
    return 0
