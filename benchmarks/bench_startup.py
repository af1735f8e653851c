"""Start-up: a whole `om check` process on the example catalog, against a cold Lark parse.

Designers run `om check` dozens of times a day (issue 2), and on a catalog of real size most
of its time is start-up: the example catalog compiles in about 20 ms.  Each case is a fresh
interpreter, timed wall-clock from spawn to exit, round-robin over the repeats:

- ``python``: ``python -c pass``, the interpreter alone (the floor);
- ``import om_dsl``: the package (its public names load on first use);
- ``om explain``: ``om explain E044``, the CLI without compiling anything;
- ``om check``: ``om check examples/catalog/acme.om``, the whole catalog (6 files);
- ``baseline``: an interpreter that imports Lark, builds the LALR parser from ``om.lark``
  (contextual lexer) and parses the same 6 files into trees: what a plain Lark front end pays
  on every run.  ``interegular`` is hidden from it, as on a user's machine (Lark uses it, when
  installed, to check terminals for collisions: 0.4 s more).

Ratio: om check / baseline (<= 1: a whole check starts and finishes sooner than Lark alone
gets a parse tree).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import harness

NAME = "startup"
REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "examples" / "catalog"
REPEATS = 15
QUICK_REPEATS = 3

GRAMMAR = REPO / "om_dsl" / "grammar" / "om.lark"

# Reads the grammar file itself: importing om_dsl would add its own start-up to the baseline.
_BASELINE = """
import sys
sys.modules["interegular"] = None  # as on a machine without it (see the module docstring)
from pathlib import Path
from lark import Lark
grammar, catalog = map(Path, sys.argv[1:])
parser = Lark(grammar.read_text(encoding="utf-8"), parser="lalr", lexer="contextual")
for path in sorted(catalog.rglob("*.om")):
    parser.parse(path.read_text(encoding="utf-8"))
"""


def cases() -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python": [py, "-c", "pass"],
        "import om_dsl": [py, "-c", "import om_dsl"],
        "om explain": [py, "-m", "om_dsl.cli", "explain", "E044"],
        "om check": [py, "-m", "om_dsl.cli", "check", str(CATALOG / "acme.om")],
        "baseline": [py, "-c", _BASELINE, str(GRAMMAR), str(CATALOG)],
    }


def _env() -> dict[str, str]:
    """The environment of every run, with bytecode caching on: a user's installed package has
    its .pyc files, and without them every run compiles every module from source (1.9 s for
    `om check` instead of 0.45 s; some shells set PYTHONDONTWRITEBYTECODE)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(repeats: int) -> dict[str, harness.Timing]:
    commands = cases()
    env = _env()
    for command in commands.values():  # write the .pyc files, warm the file cache; fail early
        subprocess.run(command, check=True, capture_output=True, cwd=REPO, env=env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=REPO, env=env)
            samples[name].append(time.perf_counter() - start)
    return {name: harness.Timing(tuple(values)) for name, values in samples.items()}


def _ratio(timings: dict[str, harness.Timing], name: str = "om check") -> float:
    return timings[name].median / timings["baseline"].median


def _rows(timings: dict[str, harness.Timing]) -> list[list[str]]:
    return [
        [
            name,
            harness.fmt_s(t.median),
            f"{harness.fmt_s(t.best)}..{harness.fmt_s(t.worst)}",
            f"{_ratio(timings, name):.2f}",
        ]
        for name, t in timings.items()
    ]


def _to_json(timings: dict[str, harness.Timing]) -> dict[str, Any]:
    return {
        "benchmark": NAME,
        "catalog": "examples/catalog/acme.om",
        "cases": {name: t.to_dict() for name, t in timings.items()},
        "ratio_om_check_over_baseline": round(_ratio(timings), 3),
    }


def main(argv: Sequence[str]) -> int:
    args = harness.parse_args(NAME, argv, __doc__ or "")
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    timings = measure(repeats)
    harness.print_table(
        f"start-up, fresh process, wall time ({repeats} runs each, medians)",
        ["case", "median", "min..max", "/ baseline"],
        _rows(timings),
    )
    print(f"om check / cold Lark parse of the same files: {_ratio(timings):.2f}", flush=True)
    if not args.no_write:
        path = harness.write_result(NAME, _to_json(timings), args.quick)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
