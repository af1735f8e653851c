"""Shared test set-up: `examples/` and `tests/support/` importable, and Hypothesis profiles.

The "ci" profile (the default) is derandomized so that a CI run is reproducible, with no
deadline because a shared 2-core runner's timing says nothing about correctness.  Set
``HYPOTHESIS_PROFILE=dev`` for a quicker, randomized local run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SUPPORT = REPO / "tests" / "support"  # helpers shared by several test folders
for folder in (EXAMPLES, SUPPORT):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def listener() -> Iterator[Any]:
    """A notification listener (``examples/simulators``) on a free 127.0.0.1 port, stopped after
    the test: shared by the simulator, downstream and service tests."""
    from simulators import Listener  # noqa: PLC0415 - importable once examples/ is on the path

    with Listener() as server:
        yield server
