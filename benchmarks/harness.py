"""Shared helpers for every ``benchmarks/bench_*.py`` module.

The machine the benchmarks run on is shared and noisy, so every figure is a **median over
several repeats**, reported together with its spread; the memory figure is measured in its own
run (tracing allocations slows Python down, so it never overlaps a timed run).

Typical use in a benchmark module::

    from benchmarks import harness

    def main(argv: list[str]) -> int:
        args = harness.parse_args("decompose", argv)
        t = harness.time_call(lambda: work(), repeats=args.repeats or 5)
        peak = harness.peak_memory(lambda: work())
        harness.print_table("decompose", ["case", "median s"], [["x", harness.fmt_s(t.median)]])
        harness.write_result("decompose", {"cases": [{"name": "x", **t.to_dict(), "peak": peak}]})
        return 0
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from om_dsl import accel

try:
    import resource
except ImportError:  # pragma: no cover - Windows has no resource module
    resource = None  # type: ignore[assignment]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


# ---- command line ----------------------------------------------------------------------------


def parse_args(name: str, argv: Sequence[str], description: str = "") -> argparse.Namespace:
    """The options every benchmark understands: ``--quick`` and ``--repeats N``.

    Benchmarks may add their own options by building on :func:`base_parser` instead.
    """
    return base_parser(name, description).parse_args(list(argv))


def base_parser(name: str, description: str = "") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks {name}", description=description)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes and fewer repeats (a smoke run)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="override the number of timed repeats"
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not write results/{name}.json")
    return parser


# ---- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock seconds of ``repeats`` runs of one callable (warm-up runs excluded).

    ``cpu_samples`` (when measured) are the process CPU seconds of the same runs: on a shared
    machine, wall time well above CPU time means the run waited for a core.
    """

    samples: tuple[float, ...]
    cpu_samples: tuple[float, ...] = ()

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_samples) if self.cpu_samples else None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def worst(self) -> float:
        return max(self.samples)

    @property
    def spread(self) -> float:
        """(worst - best) / median: how noisy the machine was for this figure."""
        return (self.worst - self.best) / self.median if self.median else 0.0

    def rate(self, amount: float) -> float:
        """``amount`` per second at the median (e.g. lines/s)."""
        return amount / self.median if self.median else float("inf")

    def to_dict(self) -> dict[str, Any]:
        out = {
            "median_s": round(self.median, 6),
            "min_s": round(self.best, 6),
            "max_s": round(self.worst, 6),
            "spread": round(self.spread, 4),
            "repeats": len(self.samples),
        }
        if self.cpu_median is not None:
            out["cpu_median_s"] = round(self.cpu_median, 6)
        return out


Mark = Callable[[str], None]


def time_call(fn: Callable[[], object], repeats: int, warmup: int = 1) -> Timing:
    """Median-ready timings of ``fn``: ``warmup`` untimed runs, then ``repeats`` timed ones."""
    return time_interleaved({"call": lambda _mark: fn()}, repeats, warmup)["call"]


def time_phases(fn: Callable[[Mark], object], repeats: int, warmup: int = 1) -> dict[str, Timing]:
    """Time the phases of one pipeline: ``fn(mark)`` calls ``mark(phase)`` after each phase.

    ``mark(name)`` closes the phase that started at the previous mark (or at the call); the
    median of each phase is taken over the repeats independently.
    """
    timings = time_interleaved({"run": fn}, repeats, warmup)
    return {name.removeprefix("run/"): t for name, t in timings.items() if name != "run"}


def time_interleaved(
    cases: Mapping[str, Callable[[Mark], object]], repeats: int, warmup: int = 1
) -> dict[str, Timing]:
    """Time several cases round-robin: each round runs every case once, in order.

    On a shared, noisy machine a burst of load then hits all cases of a round alike, so a
    ratio between two cases (e.g. ours / baseline) is fairer than with back-to-back series.
    Each case gets a ``mark(phase)`` callable; the result holds ``case`` (the whole call) and
    ``case/phase`` for each marked phase.  A full garbage collection runs before each timed
    call, outside the timing, so that no call pays for the garbage of the previous one.
    """
    for _ in range(warmup):
        for fn in cases.values():
            fn(_no_mark)
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for _ in range(max(1, repeats)):
        for name, fn in cases.items():
            gc.collect()
            start = last = (time.perf_counter(), time.process_time())

            def mark(phase: str, name: str = name) -> None:
                nonlocal last
                now = (time.perf_counter(), time.process_time())
                wall.setdefault(f"{name}/{phase}", []).append(now[0] - last[0])
                cpu.setdefault(f"{name}/{phase}", []).append(now[1] - last[1])
                last = now

            fn(mark)
            wall.setdefault(name, []).append(time.perf_counter() - start[0])
            cpu.setdefault(name, []).append(time.process_time() - start[1])
    return {name: Timing(tuple(values), tuple(cpu[name])) for name, values in wall.items()}


def _no_mark(_phase: str) -> None:
    return None


# ---- memory ----------------------------------------------------------------------------------


def peak_memory(fn: Callable[[], T]) -> tuple[T, int]:
    """Peak bytes allocated by Python while ``fn`` runs (tracemalloc), and its result.

    Only allocations made during the call count, so imports and caches built earlier (e.g. a
    parser's tables) are excluded.  Tracing slows the call down: never time it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def max_rss_bytes() -> int:
    """The process's resident-set high-water mark so far (Linux/macOS), 0 where unknown."""
    if resource is None:  # pragma: no cover - Windows
        return 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


# ---- output ----------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f}M"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.0f}k"
    return f"{per_second:.0f}"


def fmt_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.2f} GiB"


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(cells[0]), rule, *(line(row) for row in cells[1:])]
    return "\n".join([title, *body])


def dot_missing() -> bool:
    """Whether Graphviz's ``dot`` is missing (said on stdout): the render benchmarks' baseline
    is ``dot -Tsvg`` itself, so without it they have nothing to measure."""
    if shutil.which("dot") is not None:
        return False
    print("Graphviz's dot is not installed (apt-get install graphviz); nothing to measure")
    return True


TIMING_HEADERS = ("case", "median", "min..max", "spread")
"""The columns of :func:`timing_rows`."""


def timing_rows(timings: Mapping[str, Timing]) -> list[list[str]]:
    """One row per case: its median, its range and its spread (:data:`TIMING_HEADERS`)."""
    return [
        [
            key,
            fmt_s(t.median),
            f"{fmt_s(t.best)}..{fmt_s(t.worst)}",
            f"{t.spread * 100:.0f}%",
        ]
        for key, t in timings.items()
    ]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(table(title, headers, rows), flush=True)
    print(flush=True)


def environment() -> dict[str, Any]:
    """What the figures were measured on: enough to compare two result files fairly."""
    versions: dict[str, str | None] = {}
    for dist in ("lark", "pydantic", "pydantic-core", "om-dsl"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": _load_average(),
        "git_commit": _git_commit(),
        "versions": versions,
        "om_dsl_build": accel.status().describe(),  # native (mypyc) or pure Python, and why
    }


def write_result(name: str, data: dict[str, Any], quick: bool = False) -> Path:
    """Write ``results/<name>.json`` (sorted keys, indented) with the environment added.

    A ``--quick`` run writes ``results/<name>.quick.json`` instead (not committed), so that a
    smoke run never overwrites the figures of a full run.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}{'.quick' if quick else ''}.json"
    payload = {
        "benchmark": name,
        "quick": quick,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": environment(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
