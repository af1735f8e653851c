"""TMF641 output: the payloads fit TMF641 v4's ServiceOrder_Create schema (the swagger copied
to tests/fixtures/orders/tmf) and speak the vocabulary of TMF's ServiceOrder example."""

from __future__ import annotations

import json
from typing import Any

import pytest
from decomposition_support import ACME, EXAMPLE_ORDERS, FIXTURES, LAB, decomposer

from om_dsl.compiler.driver import compile_catalog
from om_dsl.orders.decompose import Decomposer
from om_dsl.orders.tmf641 import external_id, service_orders

SWAGGER = json.loads((FIXTURES / "tmf" / "TMF641-ServiceOrdering-v4.0.0.swagger.json").read_text())
EXAMPLE = json.loads((FIXTURES / "tmf" / "ServiceOrder.example.json").read_text())
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def _problems(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """A small validator for the swagger subset TMF uses: $ref, type, properties, required,
    items and enum (no extra dependency for one test)."""
    if "$ref" in schema:
        schema = SWAGGER["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    expected = TYPES.get(schema.get("type", ""))
    if expected is not None and not isinstance(value, expected):
        return [f"{path}: expected {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not in {schema['enum']}"]
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        found += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key not in schema["properties"]:
                found.append(f"{path}.{key}: not a TMF641 field")
            elif key != "value":  # Characteristic.value is "any"
                found += _problems(item, schema["properties"][key], f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += _problems(item, schema["items"], f"{path}[{i}]")
    return found


CASES = [
    (ACME, EXAMPLE_ORDERS / "tmf622-product-order.json"),
    (ACME, EXAMPLE_ORDERS / "fibre-modify.json"),
    (ACME, EXAMPLE_ORDERS / "copper-delete.json"),
    (LAB, FIXTURES / "golden" / "lab-chains.json"),
]


@pytest.mark.parametrize(("catalog", "order"), CASES, ids=[c[1].stem for c in CASES])
def test_payloads_fit_service_order_create(catalog: Any, order: Any) -> None:
    d = decomposer(catalog, "compiled")
    valid = d.read(order.read_bytes())
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    schema = {"$ref": "#/definitions/ServiceOrder_Create"}
    problems = [p for i, o in enumerate(payloads) for p in _problems(o, schema, f"[{i}]")]
    assert problems == []


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_items_look_like_the_tmf_example() -> None:
    d = decomposer(ACME, "compiled")
    valid = d.read((EXAMPLE_ORDERS / "home-duo-add.json").read_bytes())
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    item_keys = _keys([o["serviceOrderItem"] for o in payloads])
    example_keys = _keys(EXAMPLE["serviceOrderItem"])
    assert {"id", "action", "service", "serviceCharacteristic", "serviceSpecification"} <= (
        item_keys & example_keys
    )


def test_chains_become_item_relationships() -> None:
    d = decomposer(LAB, "compiled")
    valid = d.read((FIXTURES / "golden" / "lab-chains.json").read_bytes())
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    by_id = {i["id"]: i for o in payloads for i in o["serviceOrderItem"]}
    # Port -> Chip is "before parent": the port waits for its chip.
    assert by_id["big/Port"]["serviceOrderItemRelationship"] == [
        {"relationshipType": "dependency", "orderItem": {"itemId": "big/Port/Chip"}}
    ]
    assert "serviceOrderItemRelationship" not in by_id["big/Port/Chip"]
    # Pool -> PoolAgent is "after parent": the agent waits for the pool.
    assert by_id["order/Pool/PoolAgent"]["serviceOrderItemRelationship"] == [
        {"relationshipType": "dependency", "orderItem": {"itemId": "order/Pool"}}
    ]


def test_value_types_are_the_declared_types() -> None:
    catalog = compile_catalog("t.om", TYPED).raise_on_error()
    order = {"id": "o", "items": [{"id": "1", "product": "A"}]}
    d = Decomposer(catalog)
    [payload] = service_orders(d.decompose(order), d.read(order), catalog)
    [item] = payload["serviceOrderItem"]
    types = {
        c["name"]: (c["valueType"], c["value"]) for c in item["service"]["serviceCharacteristic"]
    }
    assert types == {
        "d": ("number", 2),  # a decimal with a whole value is still a number
        "n": ("integer", 3),
        "b": ("boolean", True),
        "s": ("string", "x"),
        "day": ("string", "2026-01-31"),
        "l": ("array", [1]),
    }


TYPED = """catalog "T" version "1"
offer A {}
cfs L {
  attribute d: decimal default 2
  attribute n: int default 3
  attribute b: bool default true
  attribute s: string default "x"
  attribute day: date default "2026-01-31"
  attribute l: list[decimal] default [1]
}
decompose A -> L {}
"""


def test_external_ids_are_unique_across_orders_and_shared_requests_come_first() -> None:
    d = decomposer(ACME, "compiled")
    valid = d.read((EXAMPLE_ORDERS / "tmf622-product-order.json").read_bytes())
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    ids = [p["externalId"] for p in payloads]
    assert all(i.startswith(f"{valid.id}/fr:") for i in ids)
    for index, payload in enumerate(payloads):
        related = payload["orderRelationship"]
        assert related[-1] == {
            "@referredType": "ProductOrder", "id": valid.id, "relationshipType": "cross-ref"
        }  # fmt: skip
        used = [r["id"] for r in related if r["@referredType"] == "ServiceOrder"]
        assert set(used) <= set(ids[:index])  # created before whatever refers to it


def test_existing_services_name_their_product_instance() -> None:
    order = json.loads((FIXTURES / "golden" / "acme-tmf-modify-delete.json").read_text())
    voice = order["productOrderItem"][0]["productOrderItem"][1]
    voice["product"]["id"] = "PRD-voice-9"
    d = decomposer(ACME, "compiled")
    valid = d.read(json.dumps(order))
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    items = [i for p in payloads for i in p["serviceOrderItem"]]
    deleted = [i for i in items if i["action"] == "delete"]
    assert deleted and all(
        i["service"]["relatedEntity"]
        == [{"@referredType": "Product", "id": "PRD-voice-9", "role": "product"}]
        for i in deleted
    )
    assert all("relatedEntity" not in i["service"] for i in items if i["action"] == "add")
    schema = {"$ref": "#/definitions/ServiceOrder_Create"}
    assert [p for o in payloads for p in _problems(o, schema, "")] == []


def test_external_ids_of_two_orders_never_meet() -> None:
    """Order o/fr:x with item y, and order o with item x/fr:y, both gave o/fr:x/fr:y."""
    assert external_id("o/fr:x", "fr:y") != external_id("o", "fr:x/fr:y")
    assert external_id("30001", "fr:relies_on:110") == "30001/fr:relies_on:110"  # as it reads
    assert external_id("a%2Fb", "r") != external_id("a/b", "r")


def test_an_added_item_names_no_existing_service() -> None:
    order = json.loads((FIXTURES / "golden" / "acme-tmf-modify-delete.json").read_text())
    for item in order["productOrderItem"][0]["productOrderItem"]:
        item["product"]["id"] = f"PRD-{item['id']}"
    order["productOrderItem"][0]["productOrderItem"][0]["action"] = "add"
    d = decomposer(ACME, "compiled")
    valid = d.read(json.dumps(order))
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    named = {e["id"] for p in payloads for i in p["serviceOrderItem"]
             for e in i["service"].get("relatedEntity", [])}  # fmt: skip
    assert "PRD-1.1" not in named and "PRD-1.2" in named


CROSS = """\
catalog "Cross" version "1"
offer Net { attribute speed: int default 100 }
rfs Svc { attribute speed: int }
cfs Shared scope order { attribute total: int merge sum }
rfs Leaf { attribute total: int }
resource Pool scope account { attribute n: int merge sum }
decompose Net -> Svc { speed = speed }
decompose Svc -> Shared { total = speed }
decompose Shared -> Leaf after parent on * { total = total }
decompose Leaf -> Pool before parent on * { n = 1 }
"""


def _refers_to(payload: dict[str, Any]) -> set[str]:
    refs = {r["id"] for r in payload["orderRelationship"] if r["@referredType"] == "ServiceOrder"}
    for item in payload["serviceOrderItem"]:
        for rel in item.get("serviceOrderItemRelationship", []):
            refs.add(rel["orderItem"].get("serviceOrderId", payload["externalId"]))
    return refs - {payload["externalId"]}


def test_chains_between_requests_keep_the_referred_first(tmp_path: Any) -> None:
    """fr:order's Leaf waits for the account's Pool (before parent): the account's payload was
    listed after it.  fr:order's Shared line names its parent a/Svc in fr:a, which uses
    fr:order: those two refer to each other, and only they may be out of order."""
    path = tmp_path / "cross.om"
    path.write_text(CROSS)
    d = Decomposer(compile_catalog(path).raise_on_error())
    valid = d.read({"id": "X", "account": "A", "items": [{"id": "a", "product": "Net"}]})
    payloads = service_orders(d.decompose(valid), valid, d.catalog)
    ids = [p["externalId"] for p in payloads]
    assert ids == ["X/fr:account:A", "X/fr:order", "X/fr:a"]
    late = {
        (p["externalId"], ref)
        for n, p in enumerate(payloads)
        for ref in _refers_to(p)
        if ref not in ids[:n]
    }
    assert late == {("X/fr:order", "X/fr:a")}
