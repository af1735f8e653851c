"""``Product.item.x`` reads the nearest line of that product.

A designer's probe: a two-line bundle, each line with its own SIM, and the depend that W006
suggests (``within root``) linking each service to every SIM of the bundle.  Both services
were activated with the first line's ICCID; each must read its own SIM's.
"""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import compile_text

from om_dsl.orders.decompose import decompose
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime

CATALOG = """
offer Line "Line" id "1" { attribute msisdn: string }
bundle Family "Family" id "2" { includes Line [1..5] }
cfs Service { attribute msisdn: string }
resource Sim { attribute msisdn: string }
{rules}
plan Sim on add { auto assign handler "sim.assign" }
plan Service on add {
  auto activate handler "hss.activate" when Sim.assign.iccid != null
}
depend Service.activate after Sim.assign
"""


def order(lines: int) -> dict[str, Any]:
    parts = [
        {"id": f"p{n}", "product": "Line", "attributes": {"msisdn": f"+3360000008{n}"}}
        for n in range(lines)
    ]
    return {"id": "O1", "items": [{"id": "b", "product": "Family", "children": parts}]}


CHILD = CATALOG.replace(
    "{rules}",
    "decompose Line { -> Service { msisdn = msisdn } }\n"
    "decompose Service { -> Sim { msisdn = msisdn } }",
)
SIBLINGS = CATALOG.replace(
    "{rules}", "decompose Line { -> Service { msisdn = msisdn }  -> Sim { msisdn = msisdn } }"
)
"""The SIM made from the same order item as the service, not as its child."""


@pytest.mark.parametrize(
    ("text", "own"), [(CHILD, "p1/Service/Sim"), (SIBLINGS, "p1/Sim")], ids=["child", "item"]
)
def test_each_line_reads_the_output_of_its_own_sim_not_a_siblings(text: str, own: str) -> None:
    catalog = compile_text(text)
    activated: dict[str, Any] = {}
    handlers = HandlerRegistry()

    @handlers.handler("sim.assign")
    def assign(ctx: ItemContext) -> dict[str, Any]:
        return {"iccid": "ICCID-" + ctx.line["msisdn"]}

    @handlers.handler("hss.activate")
    def activate(ctx: ItemContext) -> None:
        activated[ctx.line["msisdn"]] = ctx.products["Sim"]["assign"]["iccid"]

    runtime = Runtime(catalog, handlers=handlers)
    plan = runtime.plan(decompose(catalog, order(3)))
    runtime.submit(plan)
    runtime.run_until_idle()
    runtime.close()
    assert activated == {f"+3360000008{n}": f"ICCID-+3360000008{n}" for n in range(3)}
    sims = [peer for peer in plan.line("p1/Service").peers if peer.endswith("/Sim")]
    assert sims == [own, own.replace("p1", "p0"), own.replace("p1", "p2")]


COUSINS = """
offer Dual "Dual" id "1" {}
cfs Access { attribute tag: string }
rfs Port { attribute tag: string }
rfs Radius { attribute tag: string }
decompose Dual { -> Access as a1 { tag = "A" }  -> Access as a2 { tag = "B" } }
decompose Access { -> Port { tag = tag }  -> Radius { tag = tag } }
plan Port on add { auto reserve handler "port.reserve" }
plan Radius on add { auto activate handler "radius.activate" }
depend Radius.activate after Port.reserve
"""


def test_a_line_reads_its_siblings_output_before_a_cousins() -> None:
    """An adversarial probe, one level down: two access lines of one item, each with a port
    and a radius profile; each profile must read its own access line's port."""
    catalog = compile_text(COUSINS)
    read: dict[str, Any] = {}
    handlers = HandlerRegistry()

    @handlers.handler("port.reserve")
    def reserve(ctx: ItemContext) -> dict[str, Any]:
        return {"tag": ctx.line["tag"]}

    @handlers.handler("radius.activate")
    def activate(ctx: ItemContext) -> None:
        read[ctx.line["tag"]] = ctx.products["Port"]["reserve"]["tag"]

    runtime = Runtime(catalog, handlers=handlers)
    runtime.submit(decompose(catalog, {"id": "O1", "items": [{"id": "d", "product": "Dual"}]}))
    runtime.run_until_idle()
    runtime.close()
    assert read == {"A": "A", "B": "B"}
