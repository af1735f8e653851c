"""``wait x event "link.up.{line.site}"``: one event per line, named by the line's data.

A signal of one line's event completes that line's item and no other; the name is made when
the item starts (from outputs of earlier items too); a null placeholder fails the item for
good; the names outlive a restart of the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import om
from runtime_support import compile_text, states

from om_dsl.ir import models as ir
from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime, SqliteStore

CATALOG = """
offer Site { attribute site: string  attribute ready: bool default true }
cfs Link { attribute site: string  attribute ready: bool }
decompose Site -> Link { site = site; ready = ready }
plan Link on add {
  auto order_port handler "net.port"
  wait link_up event "link.up.{line.site}" when line.ready
  wait port_up event "port.{order_port.port}.{line.ready}" after order_port
}
"""


@pytest.fixture(scope="module")
def catalog() -> ir.Catalog:
    return compile_text(CATALOG)


def _handlers() -> HandlerRegistry:
    handlers = HandlerRegistry()

    @handlers.handler("net.port")
    def port(ctx: ItemContext) -> dict[str, Any]:
        return {"port": f"P-{ctx.line['site']}"}

    return handlers


def _order(*sites: str | None) -> dict[str, Any]:
    items = [
        {"id": str(n), "product": "Site", "attributes": {"site": site}}
        for n, site in enumerate(sites, 1)
    ]
    return {"id": "O1", "items": items}


def test_a_signal_completes_only_the_line_whose_name_it_is(catalog: ir.Catalog) -> None:
    runtime = Runtime(catalog, handlers=_handlers())
    runtime.submit(_order("LYO-2", "PAR-1"))
    runtime.run_until_idle()
    reasons = {i.id: i.reason for i in runtime.status("O1").items if i.state == "waiting"}
    assert reasons == {
        "1/Link:link_up": "waiting for event 'link.up.LYO-2'",
        "1/Link:port_up": "waiting for event 'port.P-LYO-2.true'",  # an output; str() of bool
        "2/Link:link_up": "waiting for event 'link.up.PAR-1'",
        "2/Link:port_up": "waiting for event 'port.P-PAR-1.true'",
    }
    assert runtime.signal("link.up.{line.site}") == 0  # the template is nobody's name
    assert runtime.signal("link.up.PAR-1", "O1") == 1
    assert runtime.signal("port.P-LYO-2.true") == 1
    runtime.run_until_idle()
    got = states(runtime, "O1")
    assert (got["1/Link:link_up"], got["2/Link:link_up"]) == ("waiting", "completed")
    assert (got["1/Link:port_up"], got["2/Link:port_up"]) == ("completed", "waiting")


def test_a_null_placeholder_fails_the_item_for_good(catalog: ir.Catalog) -> None:
    runtime = Runtime(catalog, handlers=_handlers())
    runtime.submit(_order(None))
    runtime.run_until_idle()
    (item,) = [i for i in runtime.status("O1").items if i.id == "1/Link:link_up"]
    assert item.state == "fatally_failed"
    assert item.reason == "the event placeholder {line.site} is null"


@pytest.mark.parametrize(
    ("site", "problem"),
    [("", "which is empty"), ("x" * 201, "which is 201 characters long")],
)
def test_a_name_nobody_could_signal_fails_the_item_for_good(site: str, problem: str) -> None:
    """`om signal ""` is a usage error and the API takes at most 200 characters."""
    bare = compile_text(CATALOG.replace('"link.up.{line.site}"', '"{line.site}"'))
    runtime = Runtime(bare, handlers=_handlers())
    runtime.submit(_order(site))
    runtime.run_until_idle()
    (item,) = [i for i in runtime.status("O1").items if i.id == "1/Link:link_up"]
    assert item.state == "fatally_failed"
    assert problem in str(item.reason) and "nobody could signal it" in str(item.reason)


def test_the_names_outlive_a_restart(catalog: ir.Catalog, tmp_path: Path) -> None:
    first = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"), handlers=_handlers())
    first.submit(_order("LYO-2", "PAR-1"))
    first.run_until_idle()
    first.close()
    second = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"), handlers=_handlers())
    assert second.signal("link.up.LYO-2") == 1
    second.run_until_idle()
    got = states(second, "O1")
    assert (got["1/Link:link_up"], got["2/Link:link_up"]) == ("completed", "waiting")
    second.close()


def test_the_ir_keeps_the_template_and_its_parts(catalog: ir.Catalog) -> None:
    (plan,) = catalog.plans
    link_up = next(i for i in plan.items if i.name == "link_up")
    assert isinstance(link_up, ir.WaitItem)
    assert link_up.event == "link.up.{line.site}"
    assert isinstance(link_up.event_expr, ir.CallOp)
    assert link_up.event_expr.fn == "concat"


@pytest.mark.parametrize(("plan", "hint"), [("", False), ("  milestone done after up\n", True)])
def test_om_signal_says_to_resume_only_when_something_is_left_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    plan: str, hint: bool,
) -> None:  # fmt: skip
    """The hint was printed even when the event completed the order's last item."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.om").write_text(
        'catalog "E" version "1"\n'
        "offer Site { attribute site: string required }\n"
        "cfs Link { attribute site: string }\n"
        "decompose Site -> Link { site = site }\n"
        'plan Link on add {\n  wait up event "up.{line.site}"\n' + plan + "}\n"
    )
    order = {"id": "S1", "items": [{"id": "1", "product": "Site", "attributes": {"site": "A"}}]}
    (tmp_path / "o.json").write_text(json.dumps(order))
    assert om(capsys, "run", "c.om", "o.json")[0] == 0
    code, _, err = om(capsys, "signal", "up.A")
    assert code == 0 and "completed 1 waiting item(s)" in err
    assert ("om resume" in err) is hint
