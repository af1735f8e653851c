"""The DOT text is the same whatever the hash seed: it can be diffed and snapshot-tested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_SCRIPT = """
import hashlib
from pathlib import Path
from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.render import (
    PlanOptions, render, render_catalog, render_decomposition, render_live, render_order_plan,
    render_plan_template,
)
from om_dsl.render.sample_run import sample_run
from om_dsl.runtime.builder import build_plan

catalog = compile_catalog("examples/catalog/acme.om").raise_on_error()
graphs = [render_catalog(catalog), render_catalog(catalog, focus="HomeTrio")]
graphs += [render_plan_template(catalog, p.product, a) for p in catalog.plans for a in p.actions]
decomposer = Decomposer(catalog)
for name in ("tmf622-product-order", "home-duo-add", "home-trio-tv", "fibre-modify"):
    order = decomposer.read(Path(f"examples/orders/{name}.json").read_bytes())
    work = decomposer.decompose(order)
    plan = build_plan(catalog, work, order)
    graphs.append(render_decomposition(catalog, order, work))
    graphs.append(render_order_plan(catalog, plan, work))
    graphs.append(render_order_plan(catalog, plan, work, PlanOptions(collapse=2)))
family = compile_catalog("tests/fixtures/orders/family.om").raise_on_error()
decomposer = Decomposer(family)
order = decomposer.read(Path("tests/fixtures/orders/golden/family-two-plans.json").read_bytes())
work = decomposer.decompose(order)
graphs.append(render_catalog(family))
graphs.append(render_decomposition(family, order, work))
graphs.append(render_order_plan(family, build_plan(family, work, order), work))
from benchmarks.gen_catalog import generate
graphs.append(render_catalog(compile_catalog("big.om", generate(3000)).raise_on_error()))
with sample_run(catalog, Path("examples/orders")) as run:
    graphs.append(render_live(run.runtime, run.order_id, now=run.now))
    graphs.append(render_live(run.runtime, run.order_id, now=run.now, collapse=2))
digest = hashlib.sha256()
for graph in graphs:
    digest.update(render(graph, "dot"))
print(len(graphs), digest.hexdigest())
"""


def _digest(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_dot_is_identical_across_hash_seeds() -> None:
    digests = {seed: _digest(seed) for seed in ("0", "1", "4242", "random")}
    assert len(set(digests.values())) == 1, digests
    count = int(digests["0"].split()[0])
    # 2 catalog views, 17 (product, action) templates, 4 orders x 3 views, 2 live views, and
    # the root-scoped family catalog's map, decomposition and plan of two family plans, and a
    # generated catalog's map big enough to be drawn flat
    assert count == 37
