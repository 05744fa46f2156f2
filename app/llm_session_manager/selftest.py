"""`--self-test`: prove that an installed copy (above all a frozen bundle) has everything it needs.

A bundle can build fine and still miss a data file, a tokenizer plugin or a Qt plugin; that only
shows when the code that needs it runs. So this runs each such path once, for real: the shipped
resources, the tokenizer, a temporary database, every agent's source over the bundled samples
(resources/samples/), and the main window rendered offscreen. It never touches the user's files:
the samples are copied into a temporary home and the database lives in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from llm_session_manager.paths import AppPaths, resource_path

# Sample folder (resources/samples/<name>) -> where the agent keeps it, relative to the home.
SAMPLE_LAYOUT: dict[str, str] = {
    "claude": ".claude",
    "codex": ".codex",
    "gemini": ".gemini",
    "copilot": ".copilot",
    "opencode": ".local/share/opencode",
    "cursor": ".config/Cursor/User/workspaceStorage",
    "copilot-vscode": ".config/Code/User/workspaceStorage",
}
# Shipped files whose absence only shows later, in a menu or a login item.
REQUIRED_RESOURCES = (
    ("icons", "llm-session-manager.png"),
    ("icons", "llm-session-manager.svg"),
    ("linux", "llm-session-manager.desktop"),
)


class SelfTestFailed(Exception):
    """One step failed; the message names the step and says why."""


def run_self_test() -> int:
    """Run every step; print one line; 0 when all passed."""
    try:
        summary = _run()
    except SelfTestFailed as exc:
        print(f"self-test FAILED: {exc}", flush=True)
        return 1
    except Exception as exc:  # a bundle missing a module fails here: say so, in one line
        print(f"self-test FAILED: {type(exc).__name__}: {exc}", flush=True)
        return 1
    print(f"self-test ok: {summary}", flush=True)
    return 0


def _run() -> str:
    _check_resources()
    tokenizer = _check_tokenizer()
    with tempfile.TemporaryDirectory(prefix="llm-session-manager-selftest-") as tmp:
        root = Path(tmp)
        home = copy_samples(root / "home")
        paths = AppPaths.under(root / "data")
        counts, sessions = _poll(paths, home)
        rows = _render_window(paths, home)
    return (
        f"{len(counts)} agents, {sessions} sessions, window rendered ({rows} rows), "
        f"tokenizer {tokenizer}"
    )


def _check_resources() -> None:
    base = resource_path()
    if not base.is_dir():
        raise SelfTestFailed(f"resources: {base} is missing")
    for parts in REQUIRED_RESOURCES:
        if not resource_path(*parts).is_file():
            raise SelfTestFailed(f"resources: {resource_path(*parts)} is missing")


def _check_tokenizer() -> str:
    from llm_session_manager.core.tokens import ENCODING_NAME, TokenizerUnavailable, count_tokens

    try:
        count = count_tokens("Self-test: count these words offline.")
    except TokenizerUnavailable as exc:
        raise SelfTestFailed(f"tokenizer: {exc}") from exc
    if count <= 0:
        raise SelfTestFailed(f"tokenizer: {ENCODING_NAME} counted {count} tokens")
    return ENCODING_NAME


def copy_samples(home: Path) -> Path:
    samples = resource_path("samples")
    for name, place in SAMPLE_LAYOUT.items():
        source = samples / name
        if not source.is_dir():
            raise SelfTestFailed(f"samples: {source} is missing")
        shutil.copytree(source, home / place, dirs_exist_ok=True)
    return home


def _poll(paths: AppPaths, home: Path) -> tuple[Counter[str], int]:
    from llm_session_manager.config import load_config
    from llm_session_manager.core.poller import build_poller
    from llm_session_manager.core.sources.registry import SOURCE_MODULES

    config, _ = load_config(paths.config_file)  # absent: the shipped defaults
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    # No environment: the user's CLAUDE_CONFIG_DIR or CODEX_HOME must not lead outside the samples.
    poller = build_poller(paths, config, {}, home)
    try:
        snapshot = poller.poll_once()
    finally:
        if poller.store is not None:
            poller.store.close()
    if not paths.db_path.is_file():
        raise SelfTestFailed(f"database: {paths.db_path} was not created")
    counts = Counter(s.key.agent for s in snapshot.sessions)
    missing = [agent for agent in SOURCE_MODULES if counts[agent] == 0]
    if missing:
        problems = "; ".join(f"{p.where}: {p.message}" for p in snapshot.problems[:3])
        raise SelfTestFailed(
            f"agents without sessions: {', '.join(missing)}{f' ({problems})' if problems else ''}"
        )
    return counts, len(snapshot.sessions)


def _render_window(paths: AppPaths, home: Path) -> int:
    """The window the user opens, built and drawn offscreen from a fresh poll of the samples."""
    # Before Qt starts: a self-test must run on a machine with no display (CI, a headless box).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from llm_session_manager.config import load_config
    from llm_session_manager.core.poller import build_poller
    from llm_session_manager.ui.selftest_window import render_main_window

    config, _ = load_config(paths.config_file)
    poller = build_poller(paths, config, {}, home)
    try:
        width, height, rows = render_main_window(poller, config, paths)
    finally:
        if poller.store is not None:
            poller.store.close()
    if width < 100 or height < 100:
        raise SelfTestFailed(f"window: rendered {width}x{height}")
    if rows == 0:
        raise SelfTestFailed("window: the session table is empty")
    return rows
