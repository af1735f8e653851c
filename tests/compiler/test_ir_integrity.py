"""IR that matches the schema and its hash but not itself is refused when loaded.

Compiled IR always holds together; IR written by another tool, or edited by hand and
rehashed, may name a product, item, system or type that is not there, or hold a cycle.  The
decomposer and the plan builder met that as an "internal error" (a KeyError), or worked
without end on a cycle of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import IRLoadError
from om_dsl.ir import integrity
from om_dsl.ir import models as ir
from om_dsl.ir.io import dump_ir, load_ir, with_hash

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "examples" / "catalog" / "acme.om"

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def acme() -> dict[str, Any]:
    return compile_catalog(ACME).raise_on_error().model_dump(mode="json")


def rehashed(data: dict[str, Any]) -> str:
    """The document with a content hash that matches it again, as a careful forger would."""
    return dump_ir(with_hash(ir.Catalog.model_validate(data)))


def _plan(data: dict[str, Any], product: str) -> dict[str, Any]:
    return next(p for p in data["plans"] if p["product"] == product)


def _item(data: dict[str, Any], product: str, name: str) -> dict[str, Any]:
    return next(i for i in _plan(data, product)["items"] if i["name"] == name)


def _named(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The item of that name, in whichever plan holds it."""
    return next(i for p in data["plans"] for i in p["items"] if i["name"] == name)


def _set(path: list[Any], value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _reverse_chain(data: dict[str, Any]) -> None:
    chain = next(r for r in data["rules"] if r["source"] == "InternetService")
    data["rules"].append({**chain, "id": "R-back", "source": chain["target"],
                          "target": "InternetService", "mappings": []})  # fmt: skip


def _first_call(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The first function call, depth first, in the rules or in the plans."""
    stack: list[Any] = [data[where]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("op") == "call":
                return node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    raise AssertionError(f"no call in {where}")


def _rename_call(where: str, name: str) -> Edit:
    return lambda data: _first_call(data, where).update(fn=name)


CASES: list[tuple[str, Edit, str]] = [
    ("rule-target", _set(["rules", 0, "target"], "Nope"),
     "produces unknown technical product 'Nope'"),
    ("rule-source", _set(["rules", 0, "source"], "Nope"), "decomposes unknown product 'Nope'"),
    ("rule-cycle", _reverse_chain,
     "decomposition rules form a cycle: InternetService -> RadiusProfile -> InternetService"),
    ("plan-product", lambda d: d["plans"][0].update(product="Nope"),
     "unknown technical product 'Nope'"),
    ("after-itself", lambda d: _item(d, "AccessLine", "install").update(after=["install"]),
     "items wait for each other: install -> install"),
    ("after-unknown", lambda d: _item(d, "AccessLine", "install").update(after=["gone"]),
     "item install names unknown item 'gone'"),
    ("undo-unknown", lambda d: _item(d, "AccessLine", "reserve_port").update(undo="gone"),
     "item reserve_port names unknown item 'gone'"),
    ("system", lambda d: _item(d, "AccessLine", "reserve_port").update(system="Nope"),
     "item reserve_port calls unknown system 'Nope'"),
    ("queue", lambda d: _item(d, "AccessLine", "install").update(queue="nope"),
     "item install uses unknown queue 'nope'"),
    ("dependency", lambda d: d["dependencies"][0].update(after_item="gone"),
     "names unknown plan item"),
    ("type", lambda d: d["technical"][0]["attributes"][0].update(type="enum:Gone"),
     "has unknown type 'enum:Gone'"),
    ("duplicate", lambda d: d["queues"].append(d["queues"][0]), "is declared twice"),
    ("include", lambda d: next(o for o in d["offers"] if o["includes"])["includes"][0].update(
        product="Gone"), "includes unknown offer 'Gone'"),
    ("choice-group", lambda d: next(o for o in d["offers"] if o["includes"])["includes"][0]
     .update(alternatives=["Gone"]), "includes unknown offer 'Gone'"),
    ("choice-group-twice", lambda d: next(o for o in d["offers"] if o["includes"])["includes"][0]
     .update(alternatives=[d["offers"][0]["name"], d["offers"][0]["name"]]),
     "in a choice group and again"),
    ("requires", lambda d: d["offers"][0].update(requires=[["Gone"]]),
     "requires unknown offer 'Gone'"),
    ("requires-itself", lambda d: d["offers"][0].update(requires=[[d["offers"][0]["name"]]]),
     "requires itself"),
    ("requires-nothing", lambda d: d["offers"][0].update(requires=[[]]),
     "has a requirement with no offer in it"),
    ("requires-twice", lambda d: d["offers"][0].update(requires=[[_other(d)], [_other(d)]]),
     "repeats a requirement"),
    ("requires-one-twice", lambda d: d["offers"][0].update(requires=[[_other(d), _other(d)]]),
     "names an offer twice in one requirement"),
    ("function", _rename_call("rules", "lenght"), "calls unknown function 'lenght'"),
    ("plan-function", _rename_call("plans", "nope"), "calls unknown function 'nope'"),
    ("changed-in-a-rule", _rename_call("rules", "changed"),
     "calls changed(), which only plans can"),
    # the path the runtime renders is path_expr: an editor may change it alone (E099, E083)
    ("dot-segment", lambda d: _item(d, "AccessLine", "reserve_port")["path_expr"].update(
        value="/../../admin"), "item reserve_port: the path '/../../admin' has a '..' segment"),
    ("encoded-dot-segment", lambda d: _named(d, "unsubscribe")["path_expr"]["args"][0].update(
        value="/x/%2E/"),
     "item unsubscribe: the path '/x/%2E/{}' has a '%2E' segment"),
    ("written-path", lambda d: _item(d, "AccessLine", "reserve_port").update(path="/./ports"),
     "item reserve_port: the path '/./ports' has a '.' segment"),
    ("relative-path", lambda d: _item(d, "AccessLine", "reserve_port")["path_expr"].update(
        value="ports"), "item reserve_port: the path 'ports' does not start with '/'"),
    # the runtime reads a record's items on its own line, and each attribute once
    ("record-item", lambda d: _record(d)["value"].update(path=["gone", "port_id"]),
     "record port_id reads 'gone.port_id', no item of its plan"),
    ("record-product", lambda d: _record(d)["value"].update(
        root="product", path=["Router", "ship", "x"]),
     "record port_id reads 'Router.ship', no item of its plan"),
    ("record-twice", lambda d: _plan(d, "AccessLine")["records"].append(_record(d)),
     "'port_id' is recorded twice"),
    ("record-function", lambda d: _record(d).update(
        value={"op": "call", "type": "any", "fn": "nope", "args": []}),
     "record port_id calls unknown function 'nope'"),
]  # fmt: skip


def _record(data: dict[str, Any]) -> dict[str, Any]:
    """The record of AccessLine's add plan (``record port_id = reserve_port.port_id``)."""
    record: dict[str, Any] = _plan(data, "AccessLine")["records"][0]
    return record


@pytest.mark.parametrize(("name", "edit", "message"), CASES, ids=[c[0] for c in CASES])
def test_inconsistent_ir_is_refused_with_what_is_wrong(
    acme: dict[str, Any], name: str, edit: Edit, message: str
) -> None:
    data = ir.Catalog.model_validate(acme).model_dump(mode="json")  # a fresh copy
    edit(data)
    with pytest.raises(IRLoadError) as raised:
        load_ir(rehashed(data))
    assert str(raised.value).startswith("IR is inconsistent (not written by `om compile`?): ")
    assert message in str(raised.value)


def test_many_problems_are_summed_up(acme: dict[str, Any]) -> None:
    data = {**acme, "technical": []}
    with pytest.raises(IRLoadError, match=r"; and \d+ more; recompile the catalog$"):
        load_ir(rehashed(data))


def test_compiled_catalogs_hold_together() -> None:
    for root in [ACME, *sorted((ROOT / "tests" / "fixtures" / "valid").glob("*.om"))]:
        assert integrity.problems(compile_catalog(root).raise_on_error()) == [], root


def test_the_cli_says_so_in_one_line(acme: dict[str, Any], tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from om_dsl import cli  # noqa: PLC0415

    cli._register()
    data = ir.Catalog.model_validate(acme).model_dump(mode="json")
    data["rules"][0]["target"] = "Nope"
    bad = tmp_path / "bad.json"
    bad.write_text(rehashed(data), encoding="utf-8")
    order = ROOT / "examples" / "orders" / "home-duo-add.json"
    result = CliRunner().invoke(cli.app, ["decompose", str(bad), str(order)])
    assert result.exit_code == 1
    assert "produces unknown technical product 'Nope'" in result.stderr
    assert "internal error" not in result.output


def _other(document: dict[str, Any]) -> str:
    """An offer of the catalog other than the first."""
    name: str = document["offers"][1]["name"]
    return name
