"""The real app under Xvfb with a real tray host and a real notification daemon.

Parametrized over an XEmbed host (trayer) and a StatusNotifierItem host (status-notifier-watcher
+ gtk-sni-tray-standalone). With either, the app sends its notifications to dunst itself, one
clickable popup per message, and `dunstctl action` clicks them. One Claude session is made live
with a real process and a pid file; the test then fills its context, kills it, and reads every
effect from the screen, the window title and dunst. A second test makes two sessions critical one
after the other and clicks the older popup: the window opens on the older session.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llm_session_manager.config import Config
from llm_session_manager.ui.icons import LEVEL_COLOURS

from .desktop import Desktop, missing_tools, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REAL_HOME = ROOT / "tests" / "data" / "real-clients" / "home"
SESSION = "984fb08c-2335-4d98-8a9a-ba9fc10c3c14"
OTHER = "81c214e6-cd39-403f-b856-ac5ce6a0f407"  # another session of the same project
PROJECT = ".claude/projects/-home-dev-src-myapp"
# Fast polls; a user who weighs context most, so a full window alone makes a session critical.
# show_ended: the window must list other sessions too, so that the notification's click is what
# selects the critical one (alone in a live-only list, it would be selected from the start).
CONFIG = """poll_interval_s: 0.5
health:
  weights: {tokens: 0.7, duration: 0.1, activity: 0.1, errors: 0.1}
ui:
  show_ended: true
"""
TITLE = "LLM Session Manager"


@pytest.fixture(params=["xembed", "sni"])
def desktop(request, tmp_path: Path):
    missing = missing_tools(request.param)
    if missing:
        # CI installs every tool (.ci/run), so a missing one there is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"CI lacks {', '.join(missing)}: .ci/run should have installed them")
        pytest.skip(f"needs {', '.join(missing)} (see .ci/run)")
    made = Desktop(tmp_path, request.param)
    try:
        made.start()
        yield made
    finally:
        made.close()


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(REAL_HOME, home, symlinks=True)
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return home


def _proc_start(pid: int) -> str:
    data = Path(f"/proc/{pid}/stat").read_bytes()
    return data[data.rfind(b")") + 1:].split()[19].decode()


def _make_live(desktop: Desktop, home: Path, session: str = SESSION
               ) -> subprocess.Popen[bytes]:
    """A real long-lived process and the pid file Claude Code would write for it."""
    proc = desktop.spawn(f"sleeper-{session[:8]}", ["sleep", "600"])
    sessions = home / ".claude" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": proc.pid, "sessionId": session, "cwd": "/home/dev/src/myapp",
        "startedAt": int(time.time() * 1000), "procStart": _proc_start(proc.pid),
        "version": "2.1.197", "kind": "interactive", "status": "busy",
    }
    (sessions / f"{proc.pid}.json").write_text(json.dumps(record), encoding="utf-8")
    return proc


def _fill_context(home: Path, session: str = SESSION) -> None:
    """Append what Claude Code writes when a window fills: a near-full request and compactions."""
    path = home / PROJECT / f"{session}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    assistant = json.loads(next(line for line in lines if '"type":"assistant"' in line))
    # A near-full window of the session's model, whatever size the shipped table gives it.
    window = Config().window_for(assistant["message"]["model"])
    assert window, "the sample's model has a window in the shipped table"
    prompt = round(window * 0.975)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    out = []
    for _ in range(2):
        out.append({
            "parentUuid": None, "isSidechain": False, "type": "system",
            "subtype": "compact_boundary", "content": "Conversation compacted", "isMeta": False,
            "timestamp": now, "uuid": str(uuid.uuid4()), "level": "info",
            "compactMetadata": {"trigger": "auto", "preTokens": round(window * 0.95),
                                "postTokens": 30_000},
            "cwd": "/home/dev/src/myapp", "sessionId": session, "version": "2.1.197",
        })
    big = json.loads(json.dumps(assistant))
    big["uuid"], big["timestamp"] = str(uuid.uuid4()), now
    big["requestId"] = f"req_e2e_{uuid.uuid4().hex[:12]}"
    big["message"]["id"] = f"msg_e2e_{uuid.uuid4().hex}"
    big["message"]["usage"].update(
        input_tokens=1_000, cache_creation_input_tokens=2_000,
        cache_read_input_tokens=prompt - 3_000, output_tokens=500,
    )
    out.append(big)
    with path.open("a", encoding="utf-8") as fh:
        fh.writelines(json.dumps(item) + "\n" for item in out)


def _launch(desktop: Desktop, home: Path, data: Path) -> subprocess.Popen[bytes]:
    env = dict(desktop.env, HOME=str(home))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env.pop(name, None)
    return desktop.spawn("app", [sys.executable, "-m", "llm_session_manager", "-v",
                                 "--data-dir", str(data)], env)


def test_tray_colour_click_and_notification(desktop: Desktop, tmp_path: Path) -> None:
    started = time.monotonic()
    home = _home(tmp_path)
    data = tmp_path / "appdata"
    data.mkdir()
    (data / "config.yaml").write_text(CONFIG, encoding="utf-8")
    sleeper = _make_live(desktop, home)
    app = _launch(desktop, home, data)
    log = tmp_path / "app.log"

    try:
        green = desktop.wait_colour(LEVEL_COLOURS["healthy"], timeout=30)
        assert desktop.find_colour(LEVEL_COLOURS["critical"]).count == 0
        assert desktop.visible_windows(TITLE) == [], "tray mode starts without the window"

        print(f"{desktop.host}: green at {time.monotonic() - started:.1f} s")
        desktop.click(green.x, green.y)
        wid = wait_for("the window", lambda: desktop.visible_windows(TITLE))[0]
        assert desktop.window_name(wid).startswith(TITLE)
        # No window manager keeps the panel above the window: move it off the tray's corner.
        desktop.run(["xdotool", "windowsize", wid, "480", "300", "windowmove", wid, "0", "120"])
        wait_for("the window moved", lambda: desktop.find_colour(
            LEVEL_COLOURS["healthy"], near=green).count >= 40)

        _fill_context(home)
        desktop.wait_colour(LEVEL_COLOURS["critical"], near=green)
        assert SESSION[:8] not in desktop.window_name(wid), "selected before the click"
        print(f"{desktop.host}: red at {time.monotonic() - started:.1f} s")
        _wait_displayed(desktop, 1)
        assert desktop.run_ok(["dunstctl", "action", "0"])  # a click on the popup
        wait_for("the window on the critical session", lambda: (
            f"claude-code:{SESSION[:8]}" in desktop.window_name(wid)))
        assert desktop.run_ok(["dunstctl", "close-all"])
        # Closed, the popup goes to dunst's history, where it is read.
        shown = wait_for("the notification in dunst's history", desktop.notifications)
        assert shown[0]["summary"] == "myapp is critical"
        assert str(shown[0]["body"]).startswith("Claude Code · Mock session · context ")
        assert shown[0]["appname"] == TITLE, "sent by the app, not by Qt's tray icon"

        print(f"{desktop.host}: selected at {time.monotonic() - started:.1f} s")
        os.kill(sleeper.pid, signal.SIGTERM)
        sleeper.wait(5)
        desktop.wait_colour(LEVEL_COLOURS["idle"], near=green)
        assert desktop.find_colour(LEVEL_COLOURS["critical"], near=green).count == 0
    except BaseException:
        print(log.read_text(errors="replace")[-4000:] if log.exists() else "no app log")
        raise
    finally:
        app.send_signal(signal.SIGTERM)  # the app quits cleanly on SIGTERM
        code = app.wait(10)
        print(f"{desktop.host}: {time.monotonic() - started:.1f} s")
    assert code == 0
    assert "QThread: Destroyed while thread" not in log.read_text()


def test_a_click_on_the_older_popup_opens_the_older_session(
    desktop: Desktop, tmp_path: Path
) -> None:
    home = _home(tmp_path)
    data = tmp_path / "appdata"
    data.mkdir()
    (data / "config.yaml").write_text(CONFIG, encoding="utf-8")
    sleepers = [_make_live(desktop, home, session) for session in (SESSION, OTHER)]
    app = _launch(desktop, home, data)
    log = tmp_path / "app.log"
    try:
        desktop.wait_colour(LEVEL_COLOURS["healthy"], timeout=30)
        _fill_context(home, SESSION)  # the older popup
        _wait_displayed(desktop, 1)
        _fill_context(home, OTHER)  # the newer one, the last message the app sent
        _wait_displayed(desktop, 2)
        assert desktop.visible_windows(TITLE) == []
        # dunst stacks popups of one urgency oldest first: position 0 is the older one.
        assert desktop.run_ok(["dunstctl", "action", "0"])
        wid = wait_for("the window", lambda: desktop.visible_windows(TITLE))[0]
        wait_for("the window on the older session", lambda: (
            f"claude-code:{SESSION[:8]}" in desktop.window_name(wid)))
        _wait_displayed(desktop, 1, exactly=True)
        assert desktop.run_ok(["dunstctl", "action", "0"])
        wait_for("the window on the newer session", lambda: (
            f"claude-code:{OTHER[:8]}" in desktop.window_name(wid)))
    except BaseException:
        print(log.read_text(errors="replace")[-4000:] if log.exists() else "no app log")
        raise
    finally:
        app.send_signal(signal.SIGTERM)
        code = app.wait(10)
        for sleeper in sleepers:
            sleeper.terminate()
            sleeper.wait(5)
    assert code == 0


def _wait_displayed(desktop: Desktop, count: int, *, exactly: bool = False) -> None:
    def shown() -> bool:
        displayed = int(desktop.run(["dunstctl", "count", "displayed"]) or 0)
        return displayed == count if exactly else displayed >= count

    wait_for(f"{count} notification(s) displayed by dunst", shown)
