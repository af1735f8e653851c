"""Property: for random DAG-shaped catalogs and orders, execution respects every dependency and
every item ends in a terminal state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_support import compile_text, decomposition, line

from om_dsl.runtime import HandlerRegistry, Runtime
from om_dsl.runtime.states import ITEM_SATISFIED


@dataclass(frozen=True)
class Shape:
    catalog: str
    lines: tuple[tuple[str, str, str, bool], ...]
    """(line id, product, root item, flag)"""


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    products = draw(st.integers(1, 4))
    decls, items = [], {}
    for p in range(products):
        count = draw(st.integers(1, 5))
        names = [f"i{j}" for j in range(count)]
        items[p] = names
        body = [_item(draw, p, j, names) for j in range(count)]
        decls.append(
            f"cfs P{p} {{ attribute flag: bool }}\nplan P{p} on add {{\n" + "\n".join(body) + "\n}"
        )
    for _ in range(draw(st.integers(0, 4))):
        if products < 2:
            break
        a = draw(st.integers(1, products - 1))
        b = draw(st.integers(0, a - 1))
        within = draw(st.sampled_from(["", " within order"]))
        item_a, item_b = draw(st.sampled_from(items[a])), draw(st.sampled_from(items[b]))
        decls.append(f"depend P{a}.{item_a} after P{b}.{item_b}{within}")
    lines = []
    for p in range(products):
        for n in range(draw(st.integers(1, 3))):
            root = draw(st.sampled_from(["1", "2"]))
            lines.append((f"L{p}.{n}", f"P{p}", root, draw(st.booleans())))
    return Shape("\n".join(decls), tuple(lines))


def _item(draw: st.DrawFn, p: int, j: int, names: list[str]) -> str:
    kind = draw(st.sampled_from(["auto", "auto", "milestone"]))
    text = f'  auto i{j} handler "h"' if kind == "auto" else f"  milestone i{j}"
    earlier = names[:j]
    after = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []
    if after:
        text += " after " + ", ".join(after)
    condition = draw(st.sampled_from(["none", "none", "plan", "ready"]))
    if condition == "plan":
        text += " when line.flag"
    elif condition == "ready" and after:
        text += f" when {after[0]}.ok == true"
    return text


def ok(item_id: str) -> bool:
    return hashlib.sha256(item_id.encode()).digest()[0] % 3 != 0


def registry() -> HandlerRegistry:
    handlers = HandlerRegistry()
    handlers.register("h", lambda ctx: {"ok": ok(ctx.item_id)}, inline=True)
    return handlers


@settings(max_examples=60)
@given(shapes())
def test_execution_respects_every_dependency_and_every_item_ends_terminal(shape: Shape) -> None:
    catalog = compile_text(shape.catalog)
    lines = [
        line(lid, product, roots=[root], request=f"fr:{root}", flag=flag)
        for lid, product, root, flag in shape.lines
    ]
    runtime = Runtime(catalog, handlers=registry(), concurrency=3)
    work = decomposition("O1", catalog, lines)
    plan = runtime.plan(work)
    runtime.submit(work)
    runtime.run_until_idle()
    status = runtime.status("O1")
    assert status.state == "completed"
    assert all(item.state in ITEM_SATISFIED for item in status.items)
    settled: dict[str, int] = {}
    started: dict[str, int] = {}
    for event in runtime.events("O1"):
        if event.item_id is None:
            continue
        if event.to_state == "running":
            started.setdefault(event.item_id, event.seq)
        if event.to_state in ("completed", "skipped"):
            settled[event.item_id] = event.seq
    for item in plan.items:
        begin = started.get(item.id, settled.get(item.id))
        if item.initial == "skipped":
            continue
        assert begin is not None
        for dep in item.deps:
            dep_done = settled.get(dep)
            if plan.item(dep).initial == "skipped":
                continue
            assert dep_done is not None and dep_done < begin, f"{item.id} before {dep}"


def test_items_of_a_ready_time_condition_read_the_outputs_they_name() -> None:
    catalog = compile_text(
        """
        cfs P { attribute flag: bool }
        plan P on add {
          auto a handler "h"
          auto b handler "h" after a when a.ok == true
        }
        """
    )
    runtime = Runtime(catalog, handlers=registry())
    runtime.submit(decomposition("O1", catalog, [line(f"L{n}", "P") for n in range(6)]))
    runtime.run_until_idle()
    for n in range(6):
        b = runtime.status("O1").item(f"L{n}:b")
        assert b.state == ("completed" if ok(f"L{n}:a") else "skipped")
