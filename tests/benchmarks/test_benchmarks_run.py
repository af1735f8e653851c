"""Every benchmark without a test of its own still runs: a quick pass of each, in a process of
its own as ``python -m benchmarks NAME --quick --no-write`` (figures are printed, not tested).

``decompose``, ``bundles``, ``fmt``, ``startup``, ``runtime``, ``fallout`` and ``fallout_page``
have their own tests, which call their measuring functions on small inputs (their quick
passes take 18 s to two minutes).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["catalog_map", "compile", "downstream", "render", "service"])
def test_the_benchmark_runs(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", name, "--quick", "--no-write"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"--- {name}: exit 0" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
