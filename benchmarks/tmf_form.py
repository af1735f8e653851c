"""Native benchmark orders written as TMF622 ProductOrders, for the benchmarks that time both
forms of one order (``bench_decompose``, ``bench_bundles``): one translation, so that both
write an item the same way."""

from __future__ import annotations

from typing import Any


def characteristics(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Attribute values as TMF622 characteristics."""
    return [{"name": k, "value": v} for k, v in values.items()]


def tmf622_item(item: dict[str, Any], offering: dict[str, Any]) -> dict[str, Any]:
    """A native item (added) as a ``productOrderItem`` naming ``offering``: its values as
    characteristics, its quantity, reliesOn links and account when it has them."""
    out: dict[str, Any] = {
        "id": item["id"],
        "action": "add",
        "productOffering": offering,
        "product": {"productCharacteristic": characteristics(item.get("attributes", {}))},
    }
    if "quantity" in item:
        out["quantity"] = item["quantity"]
    links = item.get("relationships", [])
    if links:
        out["productOrderItemRelationship"] = [
            {"id": link["id"], "relationshipType": link["type"]} for link in links
        ]
    if "account" in item:
        out["billingAccount"] = {"id": item["account"]}
    return out
