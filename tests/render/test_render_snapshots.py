"""Golden DOT text of every view over the example catalog (one reviewable .dot per snapshot).

Update after an intended change with ``pytest tests/render --snapshot-update`` and review the
diff: it is the diagram's source, line by line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.models import Catalog
from om_dsl.render import render, render_catalog, render_plan_template

ACME = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om"

# Every (product, action) that has a plan in the example catalog.
TEMPLATES = [
    (plan.product, action)
    for plan in compile_catalog(ACME).raise_on_error().plans
    for action in plan.actions
]
FOCUSES = ["HomeTrio", "RadiusProfile", "AccessLine", "Inventory", "Broadband"]


class DotSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "dot"


@pytest.fixture
def snapshot_dot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(DotSnapshot)


def _dot(graph: object) -> str:
    return render(graph, "dot").decode("utf-8")  # type: ignore[arg-type]


def test_catalog_map(acme: Catalog, snapshot_dot: SnapshotAssertion) -> None:
    assert _dot(render_catalog(acme)) == snapshot_dot


@pytest.mark.parametrize("focus", FOCUSES)
def test_catalog_map_focus(acme: Catalog, focus: str, snapshot_dot: SnapshotAssertion) -> None:
    assert _dot(render_catalog(acme, focus=focus)) == snapshot_dot


@pytest.mark.parametrize(("product", "action"), TEMPLATES, ids=[f"{p}-{a}" for p, a in TEMPLATES])
def test_plan_template(
    acme: Catalog, product: str, action: str, snapshot_dot: SnapshotAssertion
) -> None:
    assert _dot(render_plan_template(acme, product, action)) == snapshot_dot
