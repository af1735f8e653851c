"""docs/decomposition.md stays true: its native order example decomposes, its issue codes
exist in the code, and the example orders it lists are there."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_the_invalid_order_output_shown_is_real(tmp_path: Path) -> None:
    """The stderr block after "An invalid order prints each issue" is what `om decompose`
    prints for an order with a speed out of range and an item id used twice."""
    shown = DOC.split("An invalid order prints each issue", 1)[1].split("```\n", 2)[1]
    items = [
        {"id": "f", "product": "HomeFibre", "action": "add", "attributes": {"speed": speed}}
        for speed in (5, 100)
    ]
    order = tmp_path / "order.json"
    order.write_text(json.dumps({"id": "ORD-1", "items": items}))
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", "decompose", str(ACME), str(order)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == shown


def _printed(args: str) -> list[str]:
    """What ``om ARGS`` prints, line by line (trailing spaces aside: rich pads a table's
    title to the table's width)."""
    done = subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", *args.split()],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [line.rstrip() for line in done.stdout.splitlines()]


def test_the_table_example_is_real() -> None:
    """The `--format table` example is what the command prints, line for line."""
    block = re.search(r"```text table-example\n\$ om (.*?)\n(.*?)```", DOC, re.DOTALL)
    assert block is not None
    assert _printed(block.group(1)) == block.group(2).splitlines()


def test_the_installed_base_example_is_real() -> None:
    """The excerpt (the last table) is the end of what the command prints."""
    block = re.search(
        r"```text installed-base-example\n\$ om (.*?)\n\.\.\.\n(.*?)```", DOC, re.DOTALL
    )
    assert block is not None
    shown = block.group(2).splitlines()
    assert _printed(block.group(1))[-len(shown) :] == shown
    assert "noChange" in block.group(2)
