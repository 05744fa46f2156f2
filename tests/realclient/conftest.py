"""Fixtures that run the real Claude Code CLI, offline, against the loopback Anthropic mock.

Everything runs in a sandbox HOME under tmp_path; every process started here is stopped by pid
(or by killing the test's own tmux server) in teardown. The npm install is cached between runs in
$LSM_NPM_CACHE_DIR (default ~/.cache/llm-session-manager-tests/npm).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TypeVar

import psutil
import pytest

CLAUDE_PACKAGE = "@anthropic-ai/claude-code"
CLAUDE_VERSION = "2.1.197"  # the version the recorded samples were written with
MOCKS = Path(__file__).resolve().parent / "mocks"

# What npm prints when the registry cannot be reached: the only install failure that skips.
_OFFLINE_MARKERS = (
    "ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
    "EHOSTUNREACH", "network request", "request to https://registry",
)  # fmt: skip

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None], timeout: float, what: str, on_timeout: Callable[[], str]
) -> T:
    """Call `probe` until it returns something other than None; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_timeout()}")
        time.sleep(0.25)


def npm_cache_dir() -> Path:
    configured = os.environ.get("LSM_NPM_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "llm-session-manager-tests" / "npm"


def _installed_version(prefix: Path) -> str | None:
    try:
        meta = json.loads((prefix / "node_modules" / CLAUDE_PACKAGE / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = meta.get("version") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The real `claude` binary, installed from npm once and reused."""
    prefix = npm_cache_dir()
    binary = prefix / "node_modules" / ".bin" / "claude"
    prefix.mkdir(parents=True, exist_ok=True)
    # Two test runs sharing the cache must not install over each other.
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(prefix) != CLAUDE_VERSION or not binary.exists():
            _npm_install(prefix)
    probe = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0 or CLAUDE_VERSION not in probe.stdout:
        pytest.fail(
            f"{binary} --version gave {probe.returncode}: {probe.stdout}{probe.stderr}\n"
            "(npm may have skipped the package's postinstall, which puts the native binary "
            "in place)"
        )
    return binary


def _npm_install(prefix: Path) -> None:
    _npm_install_spec(prefix, f"{CLAUDE_PACKAGE}@{CLAUDE_VERSION}")


def lacking(tool: str, why: str) -> NoReturn:
    """Skip for want of a tool, except under CI: .ci/run installs it, so there it is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"CI lacks {tool}: .ci/run should have installed it ({why})")
    pytest.skip(f"{tool} is not installed: {why}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Sandbox:
    home: Path
    project: Path
    data_dir: Path

    @property
    def claude_dir(self) -> Path:
        return self.home / ".claude"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    """A HOME where Claude Code is onboarded, trusts the project and accepts the dummy key."""
    home = tmp_path / "home"
    project = home / "src" / "demo"
    project.mkdir(parents=True)
    # A git repo, so the transcript records a branch as it does for real users.
    subprocess.run(["git", "init", "-q", str(project)], check=True, timeout=30)
    claude_json = {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "customApiKeyResponses": {"approved": ["dummy"], "rejected": []},
        "projects": {str(project): {"hasTrustDialogAccepted": True}},
    }
    (home / ".claude.json").write_text(json.dumps(claude_json))
    return Sandbox(home, project, tmp_path / "lsm-data")


def sandbox_env(box: Sandbox) -> dict[str, str]:
    """The environment of everything started for the test: the sandbox HOME, nothing inherited
    that could point a client (or our app) at the real user's files."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(box.home), TERM="xterm-256color")
    return env


@dataclass
class Tmux:
    """A tmux server of the test's own (`-L <socket>`), so nothing touches the user's tmux."""

    env: dict[str, str]
    socket: str = field(default_factory=lambda: f"lsm-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    started: list[psutil.Process] = field(default_factory=list)
    socket_path: Path | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, env=self.env, timeout=30, check=False,
        )  # fmt: skip

    def new_session(self, name: str, cwd: Path, command: list[str]) -> int:
        """Start `command` in a detached window; returns the pane's pid (the command's pid)."""
        result = self.run(
            "new-session", "-d", "-s", name, "-x", "160", "-y", "50", "-c", str(cwd), *command
        )
        assert result.returncode == 0, result.stderr
        self.socket_path = Path(self.run("display-message", "-p", "#{socket_path}").stdout.strip())
        pid = int(self.run("list-panes", "-t", name, "-F", "#{pane_pid}").stdout.split()[0])
        self.started.append(psutil.Process(pid))
        return pid

    def send(self, target: str, *keys: str) -> None:
        result = self.run("send-keys", "-t", target, *keys)
        assert result.returncode == 0, result.stderr

    def screen(self, target: str) -> str:
        result = self.run("capture-pane", "-p", "-t", target)
        return result.stdout if result.returncode == 0 else f"(no pane: {result.stderr.strip()})"

    def close(self) -> None:
        self.run("kill-server")
        # kill-server hangs up the panes; anything that ignored it is stopped by pid. psutil's
        # Process remembers the start time, so a recycled pid is never signalled.
        for proc in self.started:
            try:
                if proc.is_running():
                    proc.kill()
                    proc.wait(5)
            except psutil.Error:
                pass
        # The server leaves its socket file behind when its last window closes.
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


@pytest.fixture
def tmux(sandbox: Sandbox) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        lacking("tmux", "cannot run an interactive client")
    server = Tmux(sandbox_env(sandbox))
    try:
        yield server
    finally:
        server.close()


# -- other clients: the same cache prefix, one pinned package each ----------------------------

GEMINI_PACKAGE, GEMINI_VERSION = "@google/gemini-cli", "0.61.0"
COPILOT_PACKAGE, COPILOT_VERSION = "@github/copilot", "1.0.102"


def _package_version(prefix: Path, package: str) -> str | None:
    try:
        meta = json.loads((prefix / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = meta.get("version") if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None


def install_client(package: str, version: str, bin_name: str) -> Path:
    """`<cache>/node_modules/.bin/<bin_name>` of `package@version`, installed once (under the
    cache's lock, exactly as `claude_bin` installs Claude Code) and checked with `--version`."""
    prefix = npm_cache_dir()
    binary = prefix / "node_modules" / ".bin" / bin_name
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _package_version(prefix, package) != version or not binary.exists():
            _npm_install_spec(prefix, f"{package}@{version}")
    probe = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(prefix)},
    )  # fmt: skip
    if probe.returncode != 0 or version not in probe.stdout + probe.stderr:
        pytest.fail(f"{binary} --version gave {probe.returncode}: {probe.stdout}{probe.stderr}")
    return binary


def _npm_install_spec(prefix: Path, spec: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        lacking("npm", f"cannot install {spec}")
    # --save-exact keeps the package in the prefix's package.json, so a later install of another
    # client into the same cache does not prune it.
    cmd = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--save-exact",
           spec]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    if any(marker in output for marker in _OFFLINE_MARKERS):
        pytest.skip(f"the npm registry is unreachable ({' '.join(cmd)}):\n{output[-2000:]}")
    pytest.fail(f"{' '.join(cmd)} failed ({result.returncode}):\n{output[-4000:]}")


@pytest.fixture(scope="session")
def gemini_bin() -> Path:
    return install_client(GEMINI_PACKAGE, GEMINI_VERSION, "gemini")


@pytest.fixture(scope="session")
def copilot_bin() -> Path:
    return install_client(COPILOT_PACKAGE, COPILOT_VERSION, "copilot")


@dataclass(frozen=True)
class Mock:
    url: str
    log: Path


def start_mock(tmp_path: Path, script: str, name: str) -> Iterator[Mock]:
    """A loopback mock from tests/realclient/mocks on a free port, stopped by its pid."""
    port = free_port()
    log = tmp_path / f"{name}.jsonl"
    out = (tmp_path / f"{name}.out").open("wb")
    env = {**os.environ, "MOCK_LOG": str(log)}
    proc = subprocess.Popen(
        [sys.executable, str(MOCKS / script), str(port)], stdout=out, stderr=subprocess.STDOUT,
        env=env,
    )  # fmt: skip
    try:
        wait_until(
            lambda: True if _accepts(port) else None, 15, f"the {name} to listen",
            lambda: (tmp_path / f"{name}.out").read_text(errors="replace"),
        )  # fmt: skip
        yield Mock(f"http://127.0.0.1:{port}", log)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        out.close()


@pytest.fixture
def gemini_mock(tmp_path: Path) -> Iterator[Mock]:
    yield from start_mock(tmp_path, "gemini_mock.py", "gemini_mock")


@pytest.fixture
def anthropic_mock(tmp_path: Path) -> Iterator[Mock]:
    yield from start_mock(tmp_path, "anthropic_mock.py", "anthropic_mock")
