"""docs/decomposition.md stays true: its native order example decomposes, its issue codes
exist in the code, and the example orders it lists are there."""

from __future__ import annotations

import json
import re

from decomposition_support import ACME, EXAMPLE_ORDERS, REPO, decomposer

DOC = (REPO / "docs" / "decomposition.md").read_text()


def test_the_native_example_decomposes() -> None:
    block = re.search(r"```json native-order\n(.*?)```", DOC, re.DOTALL)
    assert block is not None
    result = decomposer(ACME, "compiled").decompose(json.loads(block.group(1)))
    assert [r.id for r in result.requests] == ["fr:1", "fr:2", "fr:order"]


def test_every_documented_code_is_used_and_every_used_code_documented() -> None:
    packages = ("orders", "runtime")  # the runtime reports O070 (a `notify` URL) at submit
    paths = [p for package in packages for p in (REPO / "om_dsl" / package).rglob("*.py")]
    used = set(re.findall(r'"([OD]\d{3})"', "\n".join(p.read_text() for p in paths)))
    documented = set(re.findall(r"\b([OD]\d{3})\b", DOC))
    assert used <= documented
    assert documented <= used


def test_the_listed_example_orders_exist() -> None:
    for name in re.findall(r"`([a-z0-9-]+\.json)`", DOC):
        if "golden" not in name:
            assert (EXAMPLE_ORDERS / name).exists() or name == "ProductOrder.example.json", name
