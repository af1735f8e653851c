"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--quick] [--list]``.

Every module ``benchmarks/bench_<name>.py`` that defines ``main(argv: list[str]) -> int`` is a
benchmark; it is discovered here, so adding a benchmark needs no registration.  Options other
than the names and ``--list`` are passed on to each benchmark's ``main``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from om_dsl import accel

PREFIX = "bench_"
Main = Callable[[list[str]], int]


def discover() -> dict[str, str]:
    """Benchmark name -> module name, sorted by name (a deterministic running order)."""
    here = str(Path(__file__).resolve().parent)
    found = {
        info.name.removeprefix(PREFIX): f"benchmarks.{info.name}"
        for info in pkgutil.iter_modules([here])
        if info.name.startswith(PREFIX)
    }
    return dict(sorted(found.items()))


def load(module_name: str) -> Main:
    module = importlib.import_module(module_name)
    main: Main | None = getattr(module, "main", None)
    if main is None:
        raise SystemExit(f"{module_name} has no main(argv) function")
    return main


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading words that name benchmarks, then the options passed to each benchmark."""
    names: list[str] = []
    rest = list(argv)
    while rest and not rest[0].startswith("-"):
        names.append(rest.pop(0))
    return names, rest


def run(argv: Sequence[str]) -> int:
    known = discover()
    if "--list" in argv:
        print("\n".join(known))
        return 0
    if "-h" in argv[:1] or "--help" in argv[:1]:
        print(__doc__.strip())
        print("\nbenchmarks: " + ", ".join(known))
        return 0
    names, options = split_argv(argv)
    unknown = [n for n in names if n.removeprefix(PREFIX) not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}")
        return 2
    selected = [n.removeprefix(PREFIX) for n in names] or list(known)
    status = 0
    print(f"om_dsl build: {accel.status().describe()}", flush=True)
    for name in selected:
        print(f"=== {name} " + "=" * max(0, 72 - len(name)), flush=True)
        start = time.perf_counter()
        code = load(known[name])(list(options))
        print(f"--- {name}: exit {code}, {time.perf_counter() - start:.1f} s\n", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
