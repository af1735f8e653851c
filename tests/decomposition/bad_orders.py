"""Malformed and invalid orders, each with the issue it must produce (code and JSON path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from decomposition_support import ACME, EXAMPLE_ORDERS, LAB


@dataclass(frozen=True)
class Bad:
    name: str
    raw: bytes
    code: str
    path: str
    says: str
    """A fragment the message must contain."""
    catalog: Path = ACME


def native(items: list[dict[str, Any]], **order: Any) -> bytes:
    return json.dumps({"id": "BAD", "account": "A", **order, "items": items}).encode()


def tmf(items: list[dict[str, Any]], **order: Any) -> bytes:
    return json.dumps({"id": "BAD", **order, "productOrderItem": items}).encode()


def _tmf_sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLE_ORDERS / "tmf622-product-order.json").read_text())
    return data


def sample_with(change: Any) -> bytes:
    data = _tmf_sample()
    change(data)
    return json.dumps(data).encode()


def _deep(levels: int) -> bytes:
    """Items nested ``levels`` deep (built as text: json.dumps itself would recurse)."""
    opening = "".join(f'{{"id": "n{n}", "product": "HomeDuo", "children": [' for n in range(levels))
    leaf = '{"id": "leaf", "product": "HomeFibre"}'
    return f'{{"id": "DEEP", "items": [{opening}{leaf}{"]}" * levels}]}}'.encode()


def _huge() -> bytes:
    filler = "x" * 1000
    items = [{"id": str(i), "product": "HomeFibre", "attributes": {}} for i in range(10)]
    body = {"id": "BIG", "items": items, "padding": [filler] * 10_500}
    return json.dumps(body).encode()


FIBRE = {"id": "f", "product": "HomeFibre"}

BAD_ORDERS = [
    Bad("not-json", b"{this is not json", "O001", "$", "not valid JSON"),
    Bad("empty", b"   ", "O001", "$", "empty"),
    Bad("not-utf8", b'{"id": "\xff\xfe"}', "O001", "$", "not UTF-8"),
    Bad("top-level-array", b"[1, 2, 3]", "O008", "$", "not an array"),
    Bad("top-level-string", b'"an order"', "O008", "$", "not a string"),
    Bad("neither-format", b'{"id": "x", "lines": []}', "O009", "$", "productOrderItem"),
    Bad(
        "native-id-not-string",
        native([FIBRE], id=42),
        "O012",
        "id",
        "expected text (a string), got number 42",
    ),
    Bad(
        "native-quantity-as-text",
        native([{**FIBRE, "quantity": "2"}]),
        "O012",
        "items[0].quantity",
        "expected a whole number, got string '2'",
    ),
    Bad(
        "native-unknown-field",
        native([{**FIBRE, "colour": "red"}]),
        "O011",
        "items[0].colour",
        "unknown field",
    ),
    Bad("native-no-items", b'{"id": "x", "items": []}', "O012", "items", "at least 1"),
    Bad(
        "tmf-items-not-a-list",
        tmf({"id": "1"}),  # type: ignore[arg-type]
        "O012",
        "productOrderItem",
        "expected an array, got an object",
    ),
    Bad(
        "tmf-reference-not-an-object",
        tmf([{"id": "1", "action": "add", "productOffering": "14301"}]),
        "O012",
        "productOrderItem[0].productOffering",
        "expected an object (a reference, with an id or a name), got string '14301'",
    ),
    Bad(
        "duplicate-key",
        b'{"id": "x", "items": [{"id": "f", "product": "HomeFibre", '
        b'"attributes": {"speed": 100, "speed": 5000}}]}',
        "O014",
        "items[0].attributes.speed",
        "the key 'speed' is given 2 times",
    ),
    Bad(
        "tmf-duplicate-key",
        b'{"id": "x", "productOrderItem": [{"id": "1", "action": "add", "action": "delete", '
        b'"productOffering": {"id": "14301"}}]}',
        "O014",
        "productOrderItem[0].action",
        "give it once",
    ),
    Bad(
        "tmf-item-without-action",
        tmf([{"id": "1", "productOffering": {"id": "14301"}}]),
        "O010",
        "productOrderItem[0].action",
        "missing",
    ),
    Bad(
        "unknown-product",
        native([{"id": "f", "product": "HomeFiber"}]),
        "O030",
        "items[0].product",
        "did you mean 'HomeFibre'",
    ),
    Bad(
        "unknown-offering-id",
        tmf([{"id": "1", "action": "add", "productOffering": {"id": "99999"}}]),
        "O030",
        "productOrderItem[0].productOffering.id",
        "unknown offering id",
    ),
    Bad(
        "spec-name-that-is-an-offering-name",  # suggested 'Home Voice' for 'Home Voice'
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "product": {"productSpecification": {"name": "Home Voice"}},
                }
            ]
        ),
        "O030",
        "productOrderItem[0].product.productSpecification.name",
        "'Home Voice' is the offering name of HomeVoice: give it as productOffering.name",
    ),
    Bad(
        "spec-name-typo",
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "product": {"productSpecification": {"name": "Coverag"}},
                }
            ]
        ),
        "O030",
        "productOrderItem[0].product.productSpecification.name",
        "(did you mean 'Coverage'?)",
    ),
    Bad(
        "technical-product",
        native([{"id": "a", "product": "AccessLine"}]),
        "O033",
        "items[0].product",
        "is a cfs",
    ),
    Bad(
        "offering-and-spec-disagree",
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "productOffering": {"id": "14305"},
                    "product": {"productSpecification": {"id": "14395"}},
                }
            ]
        ),
        "O032",
        "productOrderItem[0].product.productSpecification.id",
        "TariffPlan",
    ),
    Bad(
        "unknown-attribute",
        native([{**FIBRE, "attributes": {"sped": 100}}]),
        "O034",
        "items[0].attributes.sped",
        "did you mean 'speed'",
    ),
    Bad(
        "unknown-characteristic",
        sample_with(
            lambda d: d["productOrderItem"][1]["product"]["productCharacteristic"].append(
                {"name": "TEL_IMSI", "value": "1"}
            )
        ),
        "O034",
        "productOrderItem[1].product.productCharacteristic[1].name",
        "unknown attribute",
    ),
    Bad(  # it was accepted: request "fr:", lines "/InternetService" (a native "" is O012)
        "tmf-empty-item-id",
        sample_with(lambda d: d["productOrderItem"][3].update(id="")),
        "O012",
        "productOrderItem[3].id",
        "expected text, got an empty string",
    ),
    Bad(
        "characteristic-wrong-pattern",
        sample_with(
            lambda d: d["productOrderItem"][1]["product"]["productCharacteristic"][0].update(
                value="call me"
            )
        ),
        "O036",
        "productOrderItem[1].product.productCharacteristic[0].value",
        "does not match the pattern",
    ),
    Bad(
        "wrong-type",
        native([{**FIBRE, "attributes": {"speed": "fast"}}]),
        "O036",
        "items[0].attributes.speed",
        "whole number",
    ),
    Bad(
        "bool-for-int",  # in JSON terms: not Python's True
        native([{**FIBRE, "attributes": {"speed": True}}]),
        "O036",
        "items[0].attributes.speed",
        "expected a whole number (int), got boolean true",
    ),
    Bad(
        "list-for-int",
        native([{**FIBRE, "attributes": {"speed": [True, None, "x"]}}]),
        "O036",
        "items[0].attributes.speed",
        "got array [true, null, 'x']",
    ),
    Bad(
        "float-for-int",
        native([{**FIBRE, "attributes": {"speed": 100.5}}]),
        "O036",
        "items[0].attributes.speed",
        "whole number",
    ),
    Bad(
        "exponent-for-int",
        native([{**FIBRE, "attributes": {"speed": 1e2}}]).replace(b"100.0", b"1e2"),
        "O036",
        "items[0].attributes.speed",
        "without a decimal point or exponent, got 100.0 (write 100)",
    ),
    Bad(
        "quoted-int",
        native([{**FIBRE, "attributes": {"speed": "100"}}]),
        "O036",
        "items[0].attributes.speed",
        "got string '100' (write 100, without quotes)",
    ),
    Bad(
        "quoted-bool",
        native([{**FIBRE, "attributes": {"static_ip": "true"}}]),
        "O036",
        "items[0].attributes.static_ip",
        "got string 'true' (write true, without quotes)",
    ),
    Bad(
        "out-of-range",
        native([{**FIBRE, "attributes": {"speed": 5}}]),
        "O036",
        "items[0].attributes.speed",
        "outside 50..1000",
    ),
    Bad(
        "not-an-allowed-value",
        native([{"id": "t", "product": "TariffPlan", "attributes": {"commitment_months": 6}}]),
        "O036",
        "items[0].attributes.commitment_months",
        "allowed values",
    ),
    Bad(
        "not-an-enum-member",
        native([{"id": "c", "product": "HomeCopper", "attributes": {"technology": "FTTh"}}]),
        "O036",
        "items[0].attributes.technology",
        "did you mean 'FTTH'",
    ),
    Bad(
        "missing-required",
        native([{"id": "m", "product": "MobileTelephony"}]),
        "O037",
        "items[0].attributes",
        "msisdn",
    ),
    Bad(
        "duplicate-id",
        native([FIBRE, {"id": "f", "product": "HomeVoice"}]),
        "O020",
        "items[1].id",
        "used twice",
    ),
    Bad(
        "item-id-order",  # its request would be fr:order, the order-scope lines' request
        native([{"id": "order", "product": "HomeFibre"}], account=None),
        "O021",
        "items[0].id",
        "item id 'order' is reserved",
    ),
    Bad(
        "item-id-like-a-shared-request",
        tmf([{"id": "relies_on:1", "action": "add", "productOffering": {"id": "14301"}}]),
        "O021",
        "productOrderItem[0].id",
        "'fr:relies_on:...'",
    ),
    Bad(
        "item-id-like-an-account-request",
        native([{"id": "account:A", "product": "HomeFibre"}]),
        "O021",
        "items[0].id",
        "shared account-scope",
    ),
    Bad(
        "account-dash",  # the key of 'no account': its lines would merge with the item's
        native([{**FIBRE, "account": "-"}, {"id": "g", "product": "HomeFibre"}], account=None),
        "O021",
        "items[0].account",
        "account '-' is reserved",
    ),
    Bad(
        "order-account-dash",
        native([FIBRE], account="-"),
        "O021",
        "account",
        "stands for no account",
    ),
    Bad(
        "tmf-item-account-dash",
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "productOffering": {"id": "14301"},
                    "billingAccount": {"id": "-"},
                }
            ]
        ),
        "O021",
        "productOrderItem[0].billingAccount.id",
        "account '-' is reserved",
    ),
    Bad(
        "relationship-to-missing-item",
        native([{**FIBRE, "relationships": [{"type": "reliesOn", "id": "ghost"}]}]),
        "O051",
        "items[0].relationships[0].id",
        "not in the order",
    ),
    Bad(
        "relies-on-cycle",
        native(
            [
                {
                    "id": "a",
                    "product": "HomeFibre",
                    "relationships": [{"type": "reliesOn", "id": "b"}],
                },
                {
                    "id": "b",
                    "product": "HomeVoice",
                    "relationships": [{"type": "reliesOn", "id": "a"}],
                },
            ]
        ),
        "O054",
        "items[0]",
        "rely on each other: a -> b -> a",
    ),
    Bad(
        "bundles-cycle",
        tmf(
            [
                {
                    "id": "a",
                    "action": "add",
                    "productOffering": {"id": "14100"},
                    "productOrderItemRelationship": [{"id": "b", "relationshipType": "bundles"}],
                },
                {
                    "id": "b",
                    "action": "add",
                    "productOffering": {"id": "14200"},
                    "productOrderItemRelationship": [{"id": "a", "relationshipType": "bundles"}],
                },
            ]
        ),
        "O054",
        "productOrderItem",
        "bundle each other",
    ),
    Bad(
        "part-of-two-bundles",
        native(
            [
                {"id": "d1", "product": "HomeDuo", "children": [FIBRE]},
                {
                    "id": "d2",
                    "product": "HomeDuo",
                    "relationships": [{"type": "bundles", "id": "f"}],
                },
            ]
        ),
        "O053",
        "items[1].relationships[0].id",
        "part of both",
    ),
    Bad(
        "unknown-relationship-type",
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "productOffering": {"id": "14301"},
                    "productOrderItemRelationship": [
                        {"id": "1", "relationshipType": "substitutes"}
                    ],
                }
            ]
        ),
        "O050",
        "productOrderItem[0].productOrderItemRelationship[0].relationshipType",
        "bundles, reliesOn",
    ),
    Bad(
        "native-unknown-relationship-type",
        native([{**FIBRE, "relationships": [{"type": "reliesOnn", "id": "f"}]}]),
        "O050",
        "items[0].relationships[0].type",
        "did you mean 'reliesOn'",
    ),
    Bad(
        "bundle-does-not-include",
        native(
            [
                {
                    "id": "d",
                    "product": "HomeDuo",
                    "children": [FIBRE, {"id": "tv", "product": "HomeTv"}],
                }
            ]
        ),
        "O061",
        "items[0].children[1]",
        "does not include HomeTv",
    ),
    Bad(
        "relationship-type-not-text",
        native(
            [
                {"id": "d", "product": "HomeDuo", "children": [FIBRE]},
                {"id": "v", "product": "HomeVoice", "relationships": [{"type": ["x"], "id": "d"}]},
            ]
        ),
        "O012",
        "items[1].relationships[0].type",
        "expected text (a string), got an array",
    ),
    Bad(
        "tmf622-relationship-type-not-text",
        tmf(
            [
                {
                    "id": "1",
                    "action": "add",
                    "productOffering": {"id": "14305"},
                    "productOrderItemRelationship": [{"id": "2", "relationshipType": {"x": 1}}],
                }
            ]
        ),
        "O012",
        "productOrderItem[0].productOrderItemRelationship[0].relationshipType",
        "expected text (a string), got an object",
    ),
    Bad(
        "enum-member-in-another-case",
        native([{"id": "c", "product": "HomeCopper", "attributes": {"technology": "fttc"}}]),
        "O036",
        "items[0].attributes.technology",
        "did you mean 'FTTC'?",
    ),
    Bad(
        "attribute-name-cut-short",
        native([{**FIBRE, "attributes": {"static": True}}]),
        "O034",
        "items[0].attributes.static",
        "did you mean 'static_ip'?",
    ),
    Bad(
        "requested-date-not-a-date",
        native([FIBRE], requested_start_date="next Monday"),
        "O012",
        "requested_start_date",
        "expected a date or a date-time (ISO 8601",
    ),
    Bad(
        "tmf622-requested-date-not-real",
        sample_with(lambda d: d.update(requestedCompletionDate="2019-02-30T08:13:59.506Z")),
        "O012",
        "requestedCompletionDate",
        "is not a real date or time: day is out of range",
    ),
    Bad(
        "tmf622-requested-date-a-number",
        sample_with(lambda d: d.update(requestedStartDate=1556870039)),
        "O012",
        "requestedStartDate",
        "expected text (a string), got number 1556870039",
    ),
    Bad(
        "bundle-missing-part",
        native([{"id": "d", "product": "HomeDuo"}]),
        "O062",
        "items[0]",
        "at least 1 HomeFibre",
    ),
    Bad(
        "bundle-deleted-without-its-parts",
        tmf([{"id": "B", "action": "delete", "productOffering": {"id": "14100"}}]),
        "O062",
        "productOrderItem[0]",
        "deleting bundle HomeDuo deletes its parts: list at least 1 HomeFibre",
    ),
    Bad(
        "bundle-too-many-parts",
        native(
            [
                {
                    "id": "d",
                    "product": "HomeDuo",
                    "children": [FIBRE, {"id": "v", "product": "HomeVoice", "quantity": 3}],
                }
            ]
        ),
        "O062",
        "items[0]",
        "at most 2 HomeVoice",
    ),
    Bad(
        "part-of-an-offer",
        native([{**FIBRE, "children": [{"id": "v", "product": "HomeVoice"}]}]),
        "O060",
        "items[0].children[0]",
        "not a bundle",
    ),
    Bad(
        "unknown-action",
        tmf([{"id": "1", "action": "upgrade", "productOffering": {"id": "14301"}}]),
        "O013",
        "productOrderItem[0].action",
        "unknown action",
    ),
    Bad(
        "native-unknown-action",
        native([{**FIBRE, "action": "remove"}]),
        "O013",
        "items[0].action",
        "unknown action 'remove'; use one of: add, modify, delete, noChange",
    ),
    Bad(
        "add-with-previous",
        native([{**FIBRE, "previous": {"speed": 100}}]),
        "O041",
        "items[0].previous",
        "only makes sense with action 'modify'",
    ),
    Bad(
        "modify-part-of-new-bundle",
        native([{"id": "d", "product": "HomeDuo", "children": [{**FIBRE, "action": "modify"}]}]),
        "O042",
        "items[0].children[0]",
        "parts of a new bundle are new too",
    ),
    Bad(
        "relies-on-deleted-item",
        native(
            [
                {**FIBRE, "action": "delete"},
                {
                    "id": "v",
                    "product": "HomeVoice",
                    "relationships": [{"type": "reliesOn", "id": "f"}],
                },
            ]
        ),
        "O043",
        "items[1]",
        "which this order deletes",
    ),
    Bad(
        "quantity-zero", native([{**FIBRE, "quantity": 0}]), "O038", "items[0].quantity", "1..1,000"
    ),
    Bad(
        "too-many-units",  # 9 KB, but 101,000 units: each would be decomposed on its own
        native([{**FIBRE, "id": str(i), "quantity": 1000} for i in range(101)]),
        "O040",
        "items[100]",
        "101,000 units in all",
    ),
    Bad(
        "too-many-units-nested",  # nested items count their own units
        tmf(
            [
                {
                    "id": str(b),
                    "action": "add",
                    "quantity": 1000,
                    "productOffering": {"id": "14100"},
                    "productOrderItem": [
                        {
                            "id": f"{b}.f",
                            "action": "add",
                            "quantity": 1000,
                            "productOffering": {"id": "14301"},
                        }
                    ],
                }
                for b in range(51)
            ]
        ),
        "O040",
        "productOrderItem[50]",
        "the limit is 100,000",
    ),
    Bad("ten-megabytes", _huge(), "O002", "$", "the limit is"),
    Bad("nested-1000-deep", _deep(1000), "O003", "", "nested"),
    Bad(
        "huge-number",
        b'{"id": "x", "items": [{"id": "f", "product": "HomeFibre", "attributes": {"speed": '
        + b"9" * 5000
        + b"}}]}",
        "O004",
        "items[0].attributes.speed",
        "5000 digits",
    ),
    Bad(
        "nan",
        b'{"id": "x", "items": [{"id": "f", "product": "HomeFibre", "attributes": {"speed": NaN}}]'
        b"}",
        "O004",
        "items[0].attributes.speed",
        "NaN",
    ),
    Bad(
        "exponent-beyond-2-53",  # no "(write 1000...)" of 309 digits
        native([{**FIBRE, "attributes": {"speed": 1e308}}]),
        "O036",
        "items[0].attributes.speed",
        "1e+308 is too large; whole numbers must be within +-2^53",
    ),
    Bad(
        "beyond-2-53",
        native([{**FIBRE, "attributes": {"speed": 2**60}}]),
        "O036",
        "items[0].attributes.speed",
        "too large",
    ),
    Bad(
        "lone-surrogate",
        b'{"id": "\\ud800", "items": [{"id": "f", "product": "HomeFibre"}]}',
        "O006",
        "id",
        "lone UTF-16 surrogate",
    ),
    Bad(
        "very-long-string",
        native([FIBRE], customer="x" * 20_000),
        "O005",
        "customer",
        "20,000 characters",
    ),
    Bad(
        "control-character",
        native([{**FIBRE, "attributes": {"speed": 100}}], customer="bob\u0000"),
        "O006",
        "customer",
        "control character",
    ),
    Bad(
        "zero-width-space",
        native([{"id": "f", "product": "Home\u200bFibre"}]),
        "O030",
        "items[0].product",
        "\\u200b",
    ),
    Bad(
        "bad-date",
        native([{"id": "g", "product": "Gadget", "attributes": {"start": "2026-02-30"}}]),
        "O036",
        "items[0].attributes.start",
        "not a real date",
        LAB,
    ),
    Bad(
        "list-element-not-allowed",
        native([{"id": "g", "product": "Gadget", "attributes": {"tags": ["red", "purple"]}}]),
        "O036",
        "items[0].attributes.tags",
        "allowed values",
        LAB,
    ),
    Bad(
        "order-attribute-pattern",
        native([FIBRE], attributes={"contact_phone": "call me"}),
        "O036",
        "attributes.contact_phone",
        "pattern",
    ),
    Bad(
        "tmf-order-characteristic-unknown",
        tmf(
            [{"id": "1", "action": "add", "productOffering": {"id": "14301"}}],
            characteristic=[{"name": "floor", "value": 3}],
        ),
        "O034",
        "characteristic[0].name",
        "the order",
    ),
]
