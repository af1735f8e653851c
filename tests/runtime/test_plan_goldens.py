"""Golden plans (tests/fixtures/plans/) for the example orders: `om plan` output, JSON and table.

Together the examples cover cross-product dependencies (order, root and relies_on scope),
conditions decided at plan time, parent/child waits, compensations, PONR and noChange lines.
Regenerate after an intended change with ``pytest tests/runtime --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runtime_support import ACME, EXAMPLES, FIXTURES, compile_text, decomposition, line
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from om_dsl.cli import main
from om_dsl.cli.common import load_catalog_arg
from om_dsl.orders.decompose import decomposer_for
from om_dsl.runtime import PlanCycleError, build_plan

ORDERS = sorted((EXAMPLES / "orders").glob("*.json"))


class PlanJson(JSONSnapshotExtension):
    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(FIXTURES)


class PlanText(SingleFileSnapshotExtension):
    file_extension = "txt"
    _write_mode = WriteMode.TEXT

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(FIXTURES)

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return str(data)


@pytest.fixture(scope="module")
def acme():  # type: ignore[no-untyped-def]
    return load_catalog_arg(ACME)


@pytest.mark.parametrize("path", ORDERS, ids=[p.stem for p in ORDERS])
def test_example_order_plans(acme, path: Path, snapshot: SnapshotAssertion) -> None:  # type: ignore[no-untyped-def]
    decomposer = decomposer_for(acme)
    order = decomposer.read(path.read_bytes())
    plan = build_plan(acme, decomposer.decompose(order), order)
    assert plan.model_dump(mode="json") == snapshot(extension_class=PlanJson)


@pytest.mark.parametrize("name", ["home-trio-tv", "mobile-bundle"])
def test_om_plan_table(
    name: str,
    snapshot: SnapshotAssertion,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run from the checkout, as a reader would: "declared at" names files from there."""
    monkeypatch.chdir(EXAMPLES.parent)
    catalog = ACME.relative_to(EXAMPLES.parent)
    with pytest.raises(SystemExit) as done:
        main(["plan", str(catalog), f"examples/orders/{name}.json"])
    assert done.value.code in (0, None)
    assert capsys.readouterr().out == snapshot(extension_class=PlanText)


def test_om_plan_json_is_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(
            ["plan", str(ACME), str(EXAMPLES / "orders" / "fibre-modify.json"), "--format", "json"]
        )
    text = capsys.readouterr().out
    assert '"order_id": "ORD-1002"' in text and '"7/InternetService:configure"' in text


CYCLE = (FIXTURES / "cycle.om").read_text(encoding="utf-8")


def test_cycle_error(snapshot: SnapshotAssertion) -> None:
    catalog = compile_text(CYCLE.split("\n", 1)[1], name="cycle.om")
    lines = [line("N", "Net"), line("N/R", "Radius", parent="N", wait="after_parent")]
    with pytest.raises(PlanCycleError) as caught:
        build_plan(catalog, decomposition("O9", catalog, lines))
    assert str(caught.value) + "\n" == snapshot(extension_class=PlanText)
