"""IR load/dump: canonical JSON, schema_version, content hash and the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs  # installed with schemathesis, a dev dependency
import pytest
from compiler_support import Compile

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import IRLoadError
from om_dsl.ir import models as ir
from om_dsl.ir.io import content_hash, dump_ir, ir_json_schema, load_ir, with_hash
from om_dsl.orders.decompose import decompose
from om_dsl.runtime import build_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def catalog(om: Compile) -> ir.Catalog:
    return om("", base=True).catalog


def test_dump_then_load_is_identity(catalog: ir.Catalog) -> None:
    text = dump_ir(catalog)
    loaded = load_ir(text)
    assert loaded == catalog
    assert dump_ir(loaded) == text


def test_dump_is_indented_json_ending_in_a_newline(catalog: ir.Catalog) -> None:
    text = dump_ir(catalog)
    assert text.endswith("}\n")
    assert json.loads(text)["schema_version"] == ir.SCHEMA_VERSION


def test_load_from_path_and_bytes(catalog: ir.Catalog, tmp_path: Path) -> None:
    path = tmp_path / "cat.json"
    path.write_text(dump_ir(catalog), encoding="utf-8")
    assert load_ir(path) == catalog
    assert load_ir(str(path)) == catalog
    assert load_ir(dump_ir(catalog).encode()) == catalog


def test_compiled_catalog_carries_its_hash(catalog: ir.Catalog) -> None:
    assert catalog.content_hash == content_hash(catalog)
    assert catalog.content_hash.startswith("sha256:")
    assert len(catalog.content_hash) == len("sha256:") + 64


def test_hash_ignores_the_hash_field_and_follows_the_content(catalog: ir.Catalog) -> None:
    assert content_hash(catalog.model_copy(update={"content_hash": "x"})) == catalog.content_hash
    renamed = catalog.model_copy(update={"version": "2"})
    assert content_hash(renamed) != catalog.content_hash
    assert with_hash(renamed).content_hash == content_hash(renamed)


def data(catalog: ir.Catalog) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(dump_ir(catalog))
    return loaded


def test_wrong_schema_version_is_a_clear_error(catalog: ir.Catalog) -> None:
    doc = data(catalog)
    doc["schema_version"] = ir.SCHEMA_VERSION + 1
    with pytest.raises(IRLoadError) as info:
        load_ir(json.dumps(doc))
    message = str(info.value)
    assert f"schema_version {ir.SCHEMA_VERSION + 1}" in message
    assert f"reads {ir.SCHEMA_VERSION}" in message
    assert "om compile" in message


def test_missing_schema_version_is_a_clear_error(catalog: ir.Catalog) -> None:
    doc = data(catalog)
    del doc["schema_version"]
    with pytest.raises(IRLoadError) as info:
        load_ir(json.dumps(doc))
    assert str(info.value) == (
        "this JSON is not a compiled catalog: it has no schema_version; "
        "give a .om catalog or the IR that `om compile` writes"
    )


@pytest.mark.parametrize("key", ["items", "productOrderItem"])
def test_an_order_given_as_ir_is_named_an_order(key: str) -> None:
    with pytest.raises(IRLoadError) as info:
        load_ir(json.dumps({"id": "O-1", key: []}))
    message = str(info.value)
    assert "not a compiled catalog" in message and "it looks like an order" in message
    assert "recompile" not in message


@pytest.mark.parametrize(("version", "shown"), [("1", '"1"'), (1.0, "1.0"), (True, "true")])
def test_schema_version_must_be_an_integer(
    catalog: ir.Catalog, version: object, shown: str
) -> None:
    doc = data(catalog)
    doc["schema_version"] = version
    with pytest.raises(IRLoadError) as info:
        load_ir(json.dumps(doc))
    assert str(info.value).startswith(f"IR schema_version must be an integer, not {shown};")


def test_ir_file_that_is_not_utf8_is_an_ir_load_error(tmp_path: Path) -> None:
    path = tmp_path / "ir.json"
    path.write_bytes(b'{"schema_version": 1, "name": "\xff"}')
    with pytest.raises(IRLoadError) as info:
        load_ir(path)
    assert str(info.value) == f"IR file {path} is not UTF-8 text: byte 0xFF at offset 31"


def test_deeply_nested_json_is_an_ir_load_error() -> None:
    with pytest.raises(IRLoadError, match="IR is not valid JSON: it is nested too deeply"):
        load_ir("[" * 100_000)


def test_edited_content_fails_the_hash_check(catalog: ir.Catalog) -> None:
    doc = data(catalog)
    doc["offers"][0]["display_name"] = "Edited by hand"
    with pytest.raises(IRLoadError, match="content_hash does not match"):
        load_ir(json.dumps(doc))


def test_invalid_shape_names_the_field(catalog: ir.Catalog) -> None:
    doc = data(catalog)
    doc["plans"][0]["items"][0]["kind"] = "teleport"
    with pytest.raises(IRLoadError) as info:
        load_ir(json.dumps(doc))
    assert "plans.0.items" in str(info.value)
    assert f"schema {ir.SCHEMA_VERSION}" in str(info.value)


def test_unknown_field_is_rejected(catalog: ir.Catalog) -> None:
    doc = data(catalog)
    doc["surprise"] = 1
    with pytest.raises(IRLoadError, match="surprise"):
        load_ir(json.dumps(doc))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "IR is not valid JSON"),
        ("[1, 2]", "IR must be a JSON object"),
        (b"\xff\xfe", "IR is not UTF-8 text: byte 0xFF at offset 0"),
    ],
)
def test_not_an_ir_document(text: str | bytes, message: str) -> None:
    with pytest.raises(IRLoadError, match=message):
        load_ir(text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IRLoadError, match="cannot read IR file"):
        load_ir(tmp_path / "nope.json")


def test_ir_models_are_frozen(catalog: ir.Catalog) -> None:
    with pytest.raises(ValueError, match="frozen"):
        catalog.name = "changed"  # type: ignore[misc]


def test_json_schema_export(catalog: ir.Catalog) -> None:
    schema = ir_json_schema()
    assert schema["title"] == "Catalog"
    assert schema["additionalProperties"] is False
    assert {"schema_version", "offers", "technical", "rules", "plans"} <= set(schema["properties"])
    defs = schema["$defs"]
    assert {"AutoItem", "CalloutItem", "ManualItem", "MilestoneItem", "WaitItem"} <= set(defs)
    json.dumps(schema)  # serialisable as is


def test_json_schema_validates_a_compiled_ir(om: Compile) -> None:
    """The exported schema accepts what dump_ir writes, and rejects a broken document."""
    cat = om(
        'system S { url "http://h" retry fixed 1s }\nqueue q\n'
        "plan Line on modify {\n"
        '  callout c: S POST "/{line.speed}" request { a: 1 } response { x = body.x }\n'
        "  manual m queue q after c\n"
        '  wait w event "e" after m\n'
        "  milestone done after w when map tech { FTTH: true, DSL: false }\n"
        "}",
        base=True,
    ).catalog
    validator = jsonschema_rs.validator_for(ir_json_schema())
    doc = data(cat)
    validator.validate(doc)
    doc["plans"][1]["items"][0]["method"] = "FETCH"
    assert not validator.is_valid(doc)


OLD_IR = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "ir").glob("acme-*.json"))
"""The example catalog as three earlier om_dsl versions compiled it: before Dependency.doc
(fbb4cd4), writing a null doc (895f620), and writing a null WaitItem.event_expr too (ee8b014)."""


@pytest.mark.parametrize("path", OLD_IR, ids=lambda p: p.stem)
def test_ir_of_earlier_versions_still_loads_and_plans(path: Path) -> None:
    """Stores pin orders to their catalog's IR by hash: a field added later (null in that IR,
    or absent) must not make an upgrade refuse every stored order as "edited by hand"."""
    text = path.read_text(encoding="utf-8")
    old = load_ir(text)
    assert old.content_hash == json.loads(text)["content_hash"]
    order = json.loads((EXAMPLES / "orders" / "home-duo-add.json").read_text())
    plan = build_plan(old, decompose(old, order))
    assert plan.catalog_hash == old.content_hash and plan.items


def test_a_later_field_at_its_default_is_left_out_of_the_ir(om: Compile) -> None:
    """So that IR written before it existed keeps its bytes, and its hash; set, it is kept."""
    text = dump_ir(
        om(
            'cfs Tv { }\ndecompose Web { -> Tv }\nplan Tv on add { wait w event "a" }\n'
            'plan Line on modify { wait v event "b.{line.speed}" }\n'
            "depend Tv.w after Line.activate\n/// why\ndepend Line.v after Tv.w\n",
            base=True,
        ).catalog
    )
    waits = [i for p in json.loads(text)["plans"] for i in p["items"] if i["kind"] == "wait"]
    assert ["event_expr" in w for w in waits] == [False, True]
    assert ["doc" in d for d in json.loads(text)["dependencies"]] == [False, True]


def test_an_offer_without_requires_keeps_the_json_it_had() -> None:
    """``requires`` came after schema 1: left out while empty, so the IR of a catalog that does
    not use it keeps its bytes and its content hash (stores pin catalogs by that hash)."""
    text = 'catalog "C" version "1"\noffer Web {}\noffer Tv { requires Web }\n'
    catalog = compile_catalog("c.om", text).raise_on_error()
    offers = json.loads(dump_ir(catalog))["offers"]
    assert "requires" not in offers[0]
    assert offers[1]["requires"] == [["Web"]]
    assert load_ir(dump_ir(catalog)) == catalog


def test_an_include_without_alternatives_keeps_the_json_it_had() -> None:
    """A choice group's ``alternatives`` came after schema 1: left out of a single include, so
    the IR of a catalog without groups keeps its bytes and its content hash."""
    text = (
        'catalog "C" version "1"\noffer Fibre {}\noffer Dsl {}\noffer Tv {}\n'
        "bundle One { includes Fibre or Dsl\n includes Tv [0..1] }\n"
    )
    catalog = compile_catalog("c.om", text).raise_on_error()
    group, single = json.loads(dump_ir(catalog))["offers"][3]["includes"]
    assert (group["product"], group["alternatives"]) == ("Fibre", ["Dsl"])
    assert "alternatives" not in single
    assert load_ir(dump_ir(catalog)) == catalog
