"""Build the PyInstaller bundles for this platform, and smoke-test what was built.

    .venv/bin/python packaging/build.py                     # one-dir and one-file
    .venv/bin/python packaging/build.py --onedir --smoke    # what CI runs

Outputs: dist/onedir/llm-session-manager/ (run llm-session-manager inside it; on macOS also
"LLM Session Manager.app") and dist/onefile/llm-session-manager. `--smoke` runs `--version` and
`--self-test` from each output, with a temporary HOME so nothing of the user's is read or written.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "llm_session_manager.spec"
NAME = "llm-session-manager"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
SMOKE_TIMEOUT_S = 300  # a one-file build unpacks itself first; a slow disk takes a while


def build(mode: str, dist: Path, work: Path) -> Path:
    """Run the spec for one mode; returns the executable it made."""
    out = dist / mode
    cmd = [
        sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean", "--log-level",
        "WARN", "--distpath", str(out), "--workpath", str(work / mode), "--", "--mode", mode,
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True)
    elapsed = time.monotonic() - started
    if mode == "onedir":
        exe, measured = out / NAME / f"{NAME}{EXE_SUFFIX}", out / NAME
    else:
        exe = measured = out / f"{NAME}{EXE_SUFFIX}"
    print(f"built {mode}: {exe.relative_to(ROOT)} in {elapsed:.1f} s, "
          f"{_size(measured) / 1e6:.1f} MB", flush=True)
    return exe


def smoke(exe: Path) -> None:
    """`--version` and `--self-test` from the frozen program; raises when either fails."""
    with tempfile.TemporaryDirectory(prefix="lsm-smoke-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "PYTHON"))}
        env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_DATA_HOME=f"{home}/.local")
        for args in (["--version"], ["--self-test"]):
            started = time.monotonic()
            result = subprocess.run(
                [str(exe), *args], env=env, capture_output=True, text=True,
                timeout=SMOKE_TIMEOUT_S, check=False,
            )  # fmt: skip
            elapsed = time.monotonic() - started
            line = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
            print(f"  {exe.name} {' '.join(args)} -> exit {result.returncode} in {elapsed:.1f} s: "
                  f"{line[0]}", flush=True)
            if result.returncode != 0:
                sys.stderr.write(result.stderr[-4000:])
                raise SystemExit(f"smoke test failed: {exe} {' '.join(args)}")


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onedir", action="store_true", help="build the one-dir bundle")
    parser.add_argument("--onefile", action="store_true", help="build the one-file executable")
    parser.add_argument("--smoke", action="store_true", help="run --version and --self-test")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("PyInstaller is not installed: pip install -e '.[test]' brings the pinned version",
              file=sys.stderr)
        return 2
    modes = [m for m in ("onedir", "onefile") if getattr(args, m)] or ["onedir", "onefile"]
    for mode in modes:
        exe = build(mode, args.dist.resolve(), args.work.resolve())
        if args.smoke:
            smoke(exe)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
