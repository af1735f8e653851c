"""Orders with shape errors: reported with the catalog errors of the rest, in the client's words.

A shape error (a missing, unknown or mistyped field) used to stop validation, so an order with
one hid all of its catalog errors.  Now an item without a shape error of its own is checked as
usual, an item with one is left out of the checks that involve other items (and nothing is
blamed on its absence), and every message says what JSON was expected, never a Python class.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from bad_orders import native, tmf
from decomposition_support import ACME, decomposer, engines
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from syrupy.assertion import SnapshotAssertion
from test_decompose_properties import ACME_ORDERS

from om_dsl.errors import OrderValidationError
from om_dsl.orders.native import NativeOrder
from om_dsl.orders.shape_errors import shape_message
from om_dsl.orders.tmf622 import TmfOrder

NATIVE_MIXED: dict[str, Any] = {
    "id": "MIX",
    "account": 5,
    "colour": "red",
    "attributes": {"contact_phone": "call me"},
    "items": [
        {"id": 1, "product": "HomeFibre", "action": "ad", "attributes": [1]},
        {"id": "2", "product": "HomeFibr", "quantity": "x"},
        {"id": "3", "product": "HomeFibre", "attributes": {"speed": 2, "sped": 1}},
        {
            "id": "4",
            "product": "HomeVoice",
            "relationships": [{"type": "reliesOn", "id": "1"}, {"type": "reliesOn", "id": "zz"}],
        },
        {
            "id": "5",
            "product": "HomeDuo",
            "children": [
                {"id": "5.1", "product": "HomeFibre", "account": 7, "attributes": {"speed": "x"}},
                {
                    "id": "5.2",
                    "product": "HomeVoice",
                    "quantity": 0,
                    "relationships": [{"type": "relieson", "id": "3"}],
                },
            ],
        },
        {"id": "6", "product": "HomeTv", "attributes": {"package": "Gold"}, "previous": {}},
    ],
}
NATIVE_EXPECTED = [
    ("O012", "account"),  # shape errors of the order's own fields ...
    ("O036", "attributes.contact_phone"),  # ... do not hide the catalog errors of the others
    ("O011", "colour"),
    ("O013", "items[0].action"),  # an item with a broken shape: its action is still checked,
    ("O012", "items[0].attributes"),  # its product and values are not (they are malformed)
    ("O012", "items[0].id"),
    ("O030", "items[1].product"),  # a broken quantity does not hide an unknown product
    ("O012", "items[1].quantity"),
    ("O034", "items[2].attributes.sped"),
    ("O036", "items[2].attributes.speed"),
    ("O051", "items[3].relationships[1].id"),  # 'zz' is missing; '1' is items[0], left out
    ("O012", "items[4].children[0].account"),  # HomeDuo's fibre is left out: no O062 echo
    ("O036", "items[4].children[0].attributes.speed"),
    ("O038", "items[4].children[1].quantity"),
    ("O050", "items[4].children[1].relationships[0].type"),
    ("O036", "items[5].attributes.package"),
    ("O041", "items[5].previous"),
]

TMF_MIXED: dict[str, Any] = {
    "id": "MIXT",
    "billingAccount": "ACC-1",
    "characteristic": [{"name": "floor", "value": 3}],
    "productOrderItem": [
        {
            "id": "100",
            "action": "add",
            "productOffering": {"id": "14277"},
            "productOrderItemRelationship": [
                {"id": "110", "relationshipType": "bundles"},
                {"id": "120", "relationshipType": "bundles"},
            ],
        },
        {"id": "110", "action": "add", "quantity": "1", "productOffering": {"id": "14305"}},
        {
            "id": "120",
            "action": "upgrade",
            "productOffering": {"id": "14344"},
            "product": {"productCharacteristic": [{"name": "commitment_months", "value": 6}]},
        },
        {
            "id": "130",
            "action": "add",
            "productOffering": {"name": "Home Fibre"},
            "product": {"productSpecification": "x"},
        },
        {"id": 140, "action": "add", "productOffering": {"id": "99999"}},
    ],
}
TMF_EXPECTED = [
    ("O012", "billingAccount"),
    ("O034", "characteristic[0].name"),
    ("O037", "productOrderItem[1].product.productCharacteristic"),  # bundle 100 lacks no
    ("O012", "productOrderItem[1].quantity"),  # part (O062): its part 110 is left out
    ("O013", "productOrderItem[2].action"),
    ("O036", "productOrderItem[2].product.productCharacteristic[0].value"),
    ("O012", "productOrderItem[3].product.productSpecification"),  # nothing else of 130
    ("O012", "productOrderItem[4].id"),
    ("O030", "productOrderItem[4].productOffering.id"),
]


def _issues(catalog_order: Any, engine: str = "compiled") -> list[dict[str, str]]:
    with pytest.raises(OrderValidationError) as caught:
        decomposer(ACME, engine).decompose(catalog_order)
    return [issue.to_dict() for issue in caught.value.issues]


@pytest.mark.parametrize(
    ("order", "expected"),
    [(NATIVE_MIXED, NATIVE_EXPECTED), (TMF_MIXED, TMF_EXPECTED)],
    ids=["native", "tmf622"],
)
def test_shape_and_catalog_errors_are_reported_together(
    order: dict[str, Any], expected: list[tuple[str, str]], snapshot: SnapshotAssertion
) -> None:
    issues = _issues(json.dumps(order).encode())
    assert [(i["code"], i["path"]) for i in issues] == expected  # in document order
    for engine in engines():  # nothing decomposed on any engine, the same issues
        assert _issues(json.dumps(order).encode(), engine) == issues
        assert _issues(copy.deepcopy(order), engine) == issues  # parsed data: the same
    assert json.dumps(issues, indent=2) == snapshot


def test_a_bad_action_no_longer_hides_the_rest() -> None:
    """The audit's case: one bad action (a shape error before) reported 1 problem of 10."""
    items = [
        {"id": "1", "product": "HomeFibr"},
        {"id": "2", "product": "HomeFibre", "attributes": {"speed": 5000}},
        {"id": "3", "product": "HomeVoice", "action": "explode"},
    ]
    codes = [i["code"] for i in _issues(native(items))]
    assert codes == ["O030", "O036", "O013"]


def test_relationships_to_an_item_without_an_id_are_not_blamed() -> None:
    """A left-out item with no usable id could be any missing target."""
    items = [
        {"product": "HomeFibre"},
        {"id": "v", "product": "HomeVoice", "relationships": [{"type": "reliesOn", "id": "f"}]},
    ]
    assert [(i["code"], i["path"]) for i in _issues(native(items))] == [("O010", "items[0].id")]


def test_the_parts_of_a_left_out_bundle_are_still_checked() -> None:
    items = [
        {
            "id": "d",
            "product": "HomeDuo",
            "quantity": "2",
            "children": [{"id": "f", "product": "HomeFibre", "attributes": {"speed": 1}}],
        }
    ]
    issues = [(i["code"], i["path"]) for i in _issues(native(items))]
    assert issues == [
        ("O036", "items[0].children[0].attributes.speed"),
        ("O012", "items[0].quantity"),
    ]


def test_order_fields_are_checked_when_the_items_are_not_a_list() -> None:
    raw = native("none", attributes={"contact_phone": "x"})  # type: ignore[arg-type]
    assert [(i["code"], i["path"]) for i in _issues(raw)] == [
        ("O036", "attributes.contact_phone"),
        ("O012", "items"),
    ]


def test_issues_are_in_document_order() -> None:
    items = [{"id": str(n), "product": "HomeFibre"} for n in range(12)]
    items[11]["product"] = "Nope"
    items[2]["attributes"] = {"speed": 1}
    items[10]["quantity"] = "x"
    paths = [i["path"] for i in _issues(native(items, account=3))]
    assert paths == [
        "account",
        "items[2].attributes.speed",
        "items[10].quantity",
        "items[11].product",
    ]


BROKEN_FIELDS = {"quantity": "1", "account": 5, "id": 7, "relationships": "x", "extra": True}


@settings(max_examples=60)
@given(ACME_ORDERS, st.data())
def test_a_broken_shape_causes_no_echoes(order: dict[str, Any], data: st.DataObject) -> None:
    """Breaking one field of one item adds its shape error and nothing else: every other
    issue is one the order had already (some of those may go: they involved that item).

    Breaking an item's id is the one exception: the number is read as its digits ("7"), as
    a client that writes ids as numbers means, so the item's old id is gone, and a link to
    it is a link to a missing item (O051), as it would be with any other new id."""
    before = _issues_or_none(order)
    n = data.draw(st.integers(0, len(order["items"]) - 1))
    field = data.draw(st.sampled_from(sorted(BROKEN_FIELDS)))
    broken = copy.deepcopy(order)
    old_id = broken["items"][n]["id"]
    broken["items"][n][field] = BROKEN_FIELDS[field]
    shape = f"items[{n}].{field}"
    after = _issues(broken)
    assert any(i["path"] == shape and i["code"] in ("O011", "O012") for i in after)
    gone = f"to item {old_id!r}, which is not in the order"
    for issue in after:
        renamed = field == "id" and issue["code"] == "O051" and gone in issue["message"]
        assert issue["path"] == shape or issue in before or renamed, issue


def _issues_or_none(order: dict[str, Any]) -> list[dict[str, str]]:
    try:
        decomposer(ACME, "compiled").read(copy.deepcopy(order))
    except OrderValidationError as exc:
        return [i.to_dict() for i in exc.issues]
    return []


# ---- messages --------------------------------------------------------------------------------

MALFORMED = [
    native([{"id": "", "product": "HomeFibre", "quantity": True, "attributes": [1]}], id=1),
    native([{"id": "f", "product": "HomeFibre", "children": "x", "relationships": [5]}]),
    native([{"id": "f", "product": "HomeFibre", "relationships": [{"type": "x", "id": ""}]}]),
    native([{"id": "f", "product": "HomeFibre", "colour": 1}, 3], notify=[1], attributes=None),
    native([], account=None),
    native("items"),  # type: ignore[arg-type]
    json.dumps({"items": [{"product": "HomeFibre"}]}).encode(),
    tmf(
        [
            {
                "id": 1,
                "action": 2,
                "quantity": 1.0,
                "productOffering": "x",
                "product": {"productCharacteristic": {}, "productSpecification": []},
                "billingAccount": 3,
                "productOrderItemRelationship": [{}],
                "productOrderItem": [5],
            }
        ],
        relatedParty=[{"@referredType": 1}, "p"],
        characteristic=[{"value": 1}],
    ),
    tmf([], billingAccount=[]),
    json.dumps({"@type": "ProductOrder"}).encode(),
]
ERROR_TYPES = {
    "missing",
    "extra_forbidden",
    "string_type",
    "string_too_short",
    "int_type",
    "dict_type",
    "list_type",
    "model_type",
    "too_short",
}
PYTHON_WORDS = ("Input should", "instance of", "dictionary", "Tmf", "Native", "Field required")


def _pydantic_types(raw: bytes) -> set[str]:
    data = json.loads(raw)
    model: type[BaseModel] = NativeOrder if "items" in data else TmfOrder
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return {str(e["type"]) for e in exc.errors()}
    return set()


def test_the_malformed_orders_meet_every_shape_error_pydantic_gives() -> None:
    assert set().union(*(_pydantic_types(raw) for raw in MALFORMED)) == ERROR_TYPES


@pytest.mark.parametrize("raw", MALFORMED, ids=range(len(MALFORMED)))
def test_shape_messages_are_in_json_terms(raw: bytes, snapshot: SnapshotAssertion) -> None:
    issues = [i for i in _issues(raw) if i["code"] in ("O010", "O011", "O012")]
    assert issues
    for issue in issues:
        assert not any(word in issue["message"] for word in PYTHON_WORDS), issue
    assert "\n".join(f"{i['path']}: [{i['code']}] {i['message']}" for i in issues) == snapshot


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (
            {"type": "literal_error", "loc": ("a",), "input": 3, "ctx": {"expected": "'x' or 'y'"}},
            "expected 'x' or 'y', got number 3",
        ),
        (
            {"type": "bool_type", "loc": ("a",), "input": "no"},
            "expected true or false, got string 'no'",
        ),
        ({"type": "something_new", "loc": ("a",), "input": [1]}, "an array is not allowed here"),
        ({"type": "model_type", "loc": ("nope",), "input": None}, "expected an object, got null"),
    ],
)
def test_other_shape_errors_are_worded_too(error: dict[str, Any], says: str) -> None:
    assert shape_message(error, NativeOrder) == says
