"""What the SIGKILL crash tests share: reading a worker's progress lines and killing it at a
random point (during start-up and submission, or while it runs)."""

from __future__ import annotations

import random
import signal
import subprocess
import time


def wait_line(process: subprocess.Popen[str], wanted: str, timeout: float) -> bool:
    """Read the worker's stdout until ``wanted`` (True) or its exit (False)."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        text = process.stdout.readline()
        if text.strip() == wanted:
            return True
        if not text and process.poll() is not None:
            return False
    raise AssertionError(f"the worker said nothing like {wanted} within {timeout} s")


def kill_at_a_random_point(
    process: subprocess.Popen[str],
    rng: random.Random,
    early: float = 0.3,
    startup: tuple[float, float] = (0.05, 0.6),
    running: tuple[float, float] = (0.0, 0.12),
    cue: str = "READY",
) -> bool:
    """SIGKILL during start-up (with probability ``early``) or once the worker says ``cue``;
    False if it finished first.

    A worker whose first handler call may come late after READY (a loaded machine: 0.11 to
    0.14 s, beside a ``running`` window of 0.12 s) says so with a cue of its own, so that the
    kills still land among handler calls."""
    if rng.random() < early:
        time.sleep(rng.uniform(*startup))
    elif not wait_line(process, cue, 60):
        return False
    else:
        time.sleep(rng.uniform(*running))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return True
