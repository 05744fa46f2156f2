"""`info`: what a user pastes into a bug report.

Version, paths, each agent's roots, the tokenizer, the desktop (tray, notifications, start at
login) and the problems seen.
"""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING

from llm_session_manager import __version__

if TYPE_CHECKING:
    from llm_session_manager.cli import Context


def info_text(ctx: Context) -> str:
    from llm_session_manager.core.models import LIVE_STATES
    from llm_session_manager.core.tokens import tokenizer_status

    paths = ctx.paths
    lines = [
        f"llm-session-manager {__version__}",
        f"python {platform.python_version()} on {platform.platform()}"
        f"{' (frozen)' if getattr(sys, 'frozen', False) else ''}",
        f"config:   {paths.config_file} "
        f"({'present' if paths.config_file.exists() else 'absent: defaults'})",
        f"database: {paths.db_path}",
        f"tokenizer: {tokenizer_status()}",
        *_desktop_lines(),
        "",
    ]
    poller = ctx.poller()
    snapshot = poller.poll_once()
    counts: dict[str, int] = {}
    for s in snapshot.sessions:
        counts[s.key.agent] = counts.get(s.key.agent, 0) + 1
    lines.append("agents:")
    for source in poller.sources:
        lines.append(f"  {source.agent}: {counts.get(source.agent, 0)} sessions")
        for root in source.roots():
            lines.append(f"    {root} ({'found' if root.is_dir() else 'absent'})")
    disabled = [a for a, c in ctx.config.agents.items() if not c.enabled]
    if disabled:
        lines.append(f"  disabled: {', '.join(sorted(disabled))}")
    live = sum(1 for s in snapshot.sessions if s.state in LIVE_STATES)
    lines.append(
        f"sessions: {len(snapshot.sessions)} ({live} live); files: {snapshot.files_seen}"
    )
    problems = [*ctx.config_problems, *snapshot.problems]
    store = poller.store
    if store is not None:
        from llm_session_manager.store.documents import Documents

        # Bad lines are seen once, when first read; earlier runs recorded them.
        problems.extend(store.file_problems())
        problems.extend(Documents(store).file_problems_recorded())
    problems = list(dict.fromkeys(problems))
    lines.append("")
    if problems:
        lines.append(f"problems ({len(problems)}):")
        for p in problems:
            count = f" (x{p.count})" if p.count > 1 else ""
            lines.append(f"  {p.where}: {p.message}{count}")
    else:
        lines.append("problems: none")
    return "\n".join(lines)


def _desktop_lines() -> list[str]:
    """Tray, notifications and start at login: each answers even when Qt or the bus cannot."""
    from llm_session_manager import autostart
    from llm_session_manager.ui.desktop_probe import notification_status, tray_status

    try:
        login = autostart.status().text()
    except OSError as exc:
        login = f"start at login: unknown ({exc})"
    return [
        f"system tray: {tray_status()}",
        f"notifications: {notification_status()}",
        login,
    ]
