"""Running one script under several hash seeds: the determinism tests' shared part.

Output must not depend on ``PYTHONHASHSEED`` (set iteration, dict order built from sets), and
only a fresh interpreter can change the seed, so each test runs its script in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

SEEDS = ("0", "1", "12345")


def outputs_by_seed(script: str, cwd: Path, seeds: Sequence[str] = SEEDS) -> dict[str, str]:
    """Seed -> what ``python -c script`` printed under it, run in ``cwd``; a failing run
    fails the test with its stderr."""
    outputs: dict[str, str] = {}
    for seed in seeds:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=cwd,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs[seed] = done.stdout
    return outputs
