#!/usr/bin/env python3
"""Developer entry point with nothing to install first: `python3 tools/dev.py test|console`.

It makes a private virtual environment in .venv, installs the project into it, and then
either runs every check (lint, format, types, layering, tests) or starts the console on the
embedded database with demo data. `.ci/run` calls `python3 tools/dev.py test`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run under an old python3
        sys.exit(f"EasyISP needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--editable", f".[{extras}]")


def ensure_browser() -> None:
    """The captive portal is tested in Debian's headless Chromium. Install it when this is a
    Debian-like machine we administer; otherwise the browser tests report themselves skipped."""
    if shutil.which("chromium") or os.name == "nt" or not shutil.which("apt-get"):
        return
    if os.geteuid() != 0:
        print("chromium is not installed: the captive-portal browser tests will be skipped")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    print("+", " ".join(cmd), flush=True)
    if subprocess.run(cmd, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(cmd, env=env, check=False)


def run_checks(pytest_args: list[str]) -> int:
    """Every check runs even when an earlier one fails, so one CI run shows everything."""
    checks: list[tuple[str, list[str | Path]]] = [
        ("ruff lint", [BIN / "ruff", "check", "."]),
        ("ruff format", [BIN / "ruff", "format", "--check", "."]),
        (
            "mypy",
            [
                PYTHON,
                "-m",
                "mypy",
                "easyisp_core",
                "easyisp_cli",
                "radius_service",
                "easyisp_desktop",
            ],
        ),
        ("import layering", [BIN / "lint-imports"]),
        ("pytest", [PYTHON, "-m", "pytest", *pytest_args]),
    ]
    failed: list[str] = []
    for name, cmd in checks:
        print(f"\n=== {name} ===", flush=True)
        code = _run(*cmd, check=False)
        # pytest exit code 5 means "no tests collected": not a failure of the run.
        if code not in (0, 5) or (code == 5 and name != "pytest"):
            failed.append(name)
    print("\n=== summary ===")
    print("all checks passed" if not failed else f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    test = sub.add_parser("test", help="install and run every check and test")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments")
    console = sub.add_parser("console", help="install and start the console with demo data")
    console.add_argument("console_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.action == "test":
        ensure_environment("all,test")
        ensure_browser()
        return run_checks(args.pytest_args)
    ensure_environment("desktop")
    return _run(BIN / "easyisp", "console", "--demo", *args.console_args, check=False)


if __name__ == "__main__":
    sys.exit(main())
