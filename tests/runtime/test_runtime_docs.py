"""docs/runtime.md shows the transition tables the code enforces (a changed table fails here),
and its amendment example runs as written."""

from __future__ import annotations

from runtime_support import REPO

from om_dsl.runtime.states import ITEM_TRANSITIONS, ORDER_TRANSITIONS

DOC = (REPO / "docs" / "runtime.md").read_text(encoding="utf-8")


def documented(heading: str) -> dict[str, set[str]]:
    section = DOC.split(heading, 1)[1].split("\n\n", 2)[1]
    table: dict[str, set[str]] = {}
    for row in section.splitlines()[2:]:
        source, targets = (cell.strip() for cell in row.strip("|").split("|"))
        table[source] = (
            set() if targets == "(terminal)" else {t.strip() for t in targets.split(",")}
        )
    return table


def test_the_item_table_matches_the_code() -> None:
    code = {s.value: {t.value for t in targets} for s, targets in ITEM_TRANSITIONS.items()}
    assert documented("### Item states") == code


def test_the_order_table_matches_the_code() -> None:
    code = {s.value: {t.value for t in targets} for s, targets in ORDER_TRANSITIONS.items()}
    assert documented("### Order states (TMF622)") == code


def test_the_amendment_example_runs() -> None:
    section = DOC.split("## Amending an order", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/runtime.md (Amending an order)", "exec"), {})
