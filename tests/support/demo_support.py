"""Running a demo module the way `make demo` / `make serve-demo` do, for the demo tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_demo(module: str, timeout: float = 90) -> str:
    """``python -m module`` from the repository root; its stdout, after checking it succeeded
    and printed no traceback.

    A wide terminal keeps rich from wrapping the lines the tests look for."""
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout
