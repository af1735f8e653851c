"""Golden decompositions: every example and fixture order, on both engines, snapshotted.

Each case runs on every available engine; the outputs must be byte-identical, and the
compiled engine's output is the snapshot.  Error outcomes (a merge conflict) are snapshotted
the same way, as the issues they report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from decomposition_support import EXAMPLE_ORDERS, golden_cases, on_every_engine
from syrupy.assertion import SnapshotAssertion

CASES = golden_cases()


def test_there_are_enough_goldens() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize(("name", "catalog", "order"), CASES, ids=[c[0] for c in CASES])
def test_golden(name: str, catalog: Path, order: Path, snapshot: SnapshotAssertion) -> None:
    assert on_every_engine(catalog, order.read_bytes()) == snapshot


def test_the_tmf_sample_is_the_shared_file_unchanged() -> None:
    shared = Path("/work/shared/tmf/ProductOrder.example.json")
    if not shared.exists():
        pytest.skip("the shared TMF folder is not here (CI)")
    assert (EXAMPLE_ORDERS / "tmf622-product-order.json").read_bytes() == shared.read_bytes()
