"""Throughput probe for the durable-rules adapter (om_dsl.rules.durable_adapter).

Run: ``.venv/bin/python benchmarks/durable_probe.py [--facts 20000] [--rules 50] [--repeat 3]``

Prints facts/s for one run of ~20k facts against ~50 rules (median of ``--repeat`` runs),
runs/s for many small runs (session churn), and the sid-hash facts the adapter guards against.
It only goes through the adapter: nothing here imports ``durable``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from om_dsl.rules.durable_adapter import (
    DurableRuleset,
    allocate_distinct_hash_ids,
    durable_available,
    durable_hash,
    find_hash_collisions,
)


def make_conditions(rules: int) -> dict[str, dict[str, Any]]:
    conditions: dict[str, dict[str, Any]] = {}
    for i in range(rules):
        shape = i % 3
        if shape == 0:
            expr: dict[str, Any] = {"product": f"P{i}"}
        elif shape == 1:
            expr = {"$and": [{"product": f"P{i}"}, {"$gte": {"speed": i}}]}
        else:
            expr = {"$and": [{"product": f"P{i}"}, {"$or": [{"tier": "gold"}, {"$lt": {"n": 5}}]}]}
        conditions[f"rule-{i}"] = {"m": expr}
    return conditions


def make_facts(count: int, rules: int) -> list[dict[str, Any]]:
    # About 1 in 6 facts names a product no rule knows: those match nothing.
    span = rules + rules // 5
    return [
        {
            "product": f"P{i % span}",
            "speed": i % 200,
            "tier": "gold" if i % 4 == 0 else "silver",
            "n": i % 10,
            "item": f"item-{i}",
        }
        for i in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small-runs", type=int, default=2_000)
    args = parser.parse_args(argv)

    if not durable_available():
        print("durable-rules is not importable here (Python >= 3.13?): nothing to measure")
        return 0

    conditions = make_conditions(args.rules)
    facts = make_facts(args.facts, args.rules)
    name = f"probe-{durable_hash(repr(sorted(conditions.items()))):08x}"
    ruleset = DurableRuleset(name, conditions)

    matches = 0

    def on_match(rule_id: str, fact: dict[str, Any]) -> list[dict[str, Any]]:
        nonlocal matches
        matches += 1
        return []

    rates: list[float] = []
    for _ in range(args.repeat):
        matches = 0
        started = time.perf_counter()
        ruleset.run(facts, on_match)
        rates.append(len(facts) / (time.perf_counter() - started))
    print(
        f"one run, {len(facts)} facts x {len(conditions)} rules: "
        f"median {statistics.median(rates):,.0f} facts/s "
        f"(runs: {', '.join(f'{rate:,.0f}' for rate in rates)}; {matches} matches per run)"
    )

    small = facts[:10]
    started = time.perf_counter()
    for _ in range(args.small_runs):
        ruleset.run(small, on_match)
    elapsed = time.perf_counter() - started
    print(
        f"session churn, {args.small_runs} runs of {len(small)} facts: "
        f"{args.small_runs / elapsed:,.0f} runs/s, {args.small_runs * len(small) / elapsed:,.0f} "
        f"facts/s; sessions: {ruleset.session_stats()}"
    )

    pool = allocate_distinct_hash_ids("s", 1000)
    print(
        "sid hashing (FNV-1a 32, as durable's fnv1Hash32): "
        f"durable_hash('s31597') = {durable_hash('s31597'):#010x} = "
        f"durable_hash('s618190') = {durable_hash('s618190'):#010x}; "
        f"collisions in the 1000-sid pool: {len(find_hash_collisions(pool))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
