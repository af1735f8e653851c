"""TMF641 ServiceOrder payloads for a decomposition: one service order per fulfillment request.

Shaped like ``ServiceOrder_Create`` of TMF641 v4 (no ``id``, ``href`` or ``state``: a server
assigns those).  Each line is a ``serviceOrderItem`` whose ``service`` names the technical
product as its ``serviceSpecification`` and carries the attributes as
``serviceCharacteristic``.  Links between lines become ``serviceOrderItemRelationship``:
``reliesOn`` from a chained line to its parent line, or ``dependency`` when the rule says
``after parent`` (the child waits for the parent) or ``before parent`` (the parent waits for
the child, and the child has no link back).  A reference into another request's
service order uses that order's ``externalId`` (our request id) as ``serviceOrderId``.  Shared
requests a root uses appear in ``orderRelationship`` as ``reliesOn``.
"""

from __future__ import annotations

from typing import Any

from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest, Order

_SERVICE_TYPE = {"cfs": "CFS", "rfs": "RFS", "resource": "Resource"}


def service_orders(
    result: Decomposition, order: Order, catalog: ir.Catalog
) -> list[dict[str, Any]]:
    names = {t.name: t.display_name or t.name for t in catalog.technical}
    types = {t.name: {a.name: a.type for a in t.attributes} for t in catalog.technical}
    where = {line.id: request.id for request in result.requests for line in request.lines}
    waiting = _waiting_children(result)
    return [_order(request, order, names, types, where, waiting) for request in result.requests]


def _order(
    request: FulfillmentRequest,
    order: Order,
    names: dict[str, str],
    types: dict[str, dict[str, str]],
    where: dict[str, str],
    waiting: dict[str, list[FulfillmentLine]],
) -> dict[str, Any]:
    payload: dict[str, Any] = {"@type": "ServiceOrder", "externalId": request.id}
    payload["description"] = _description(request, order)
    if order.category:
        payload["category"] = order.category
    if order.priority:
        payload["priority"] = order.priority
    if order.requested_start_date:
        payload["requestedStartDate"] = order.requested_start_date
    if order.requested_completion_date:
        payload["requestedCompletionDate"] = order.requested_completion_date
    payload["externalReference"] = [
        {"@type": "ExternalReference", "externalReferenceType": "ProductOrder", "name": order.id}
    ]
    if order.customer:
        payload["relatedParty"] = [
            {
                "@type": "RelatedParty",
                "@referredType": "Customer",
                "id": order.customer,
                "role": "customer",
            }
        ]
    if request.uses:
        payload["orderRelationship"] = [
            {"@referredType": "ServiceOrder", "id": used, "relationshipType": "reliesOn"}
            for used in request.uses
        ]
    payload["serviceOrderItem"] = [
        _item(line, names, types.get(line.product, {}), where, request.id, waiting.get(line.id, []))
        for line in request.lines
    ]
    return payload


def _description(request: FulfillmentRequest, order: Order) -> str:
    if request.shared:
        return f"Shared {request.scope} lines of product order {order.id}"
    return f"Fulfillment of order item {request.root_item} of product order {order.id}"


def _waiting_children(result: Decomposition) -> dict[str, list[FulfillmentLine]]:
    """Lines whose parent must wait for them (``before parent``), by parent id."""
    out: dict[str, list[FulfillmentLine]] = {}
    for line in result.lines():
        if line.wait == "before_parent" and line.parent_line is not None:
            out.setdefault(line.parent_line, []).append(line)
    return out


def _item(
    line: FulfillmentLine,
    names: dict[str, str],
    types: dict[str, str],
    where: dict[str, str],
    order_id: str,
    waits_for: list[FulfillmentLine],
) -> dict[str, Any]:
    service = {
        "@type": "Service",
        "name": names.get(line.product, line.product),
        "serviceType": _SERVICE_TYPE[line.kind],
        "serviceSpecification": {
            "@type": "ServiceSpecificationRef",
            "id": line.product,
            "name": names.get(line.product, line.product),
        },
        "serviceCharacteristic": [
            {"name": name, "valueType": _value_type(types.get(name), value), "value": value}
            for name, value in line.attributes.items()
        ],
    }
    item: dict[str, Any] = {"@type": "ServiceOrderItem", "id": line.id, "action": line.action}
    item["service"] = service
    relations = []
    if line.parent_line is not None and line.wait != "before_parent":  # that parent waits for it
        relations.append(_relation(line, where, order_id))
    relations += [_ref("dependency", child.id, where[child.id], order_id) for child in waits_for]
    if relations:
        item["serviceOrderItemRelationship"] = relations
    return item


def _relation(line: FulfillmentLine, where: dict[str, str], order_id: str) -> dict[str, Any]:
    assert line.parent_line is not None
    kind = "dependency" if line.wait == "after_parent" else "reliesOn"
    return _ref(kind, line.parent_line, where.get(line.parent_line, order_id), order_id)


def _ref(kind: str, item_id: str, in_order: str, current: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"itemId": item_id}
    if in_order != current:
        ref["serviceOrderId"] = in_order
    return {"relationshipType": kind, "orderItem": ref}


_DECLARED = {"int": "integer", "decimal": "number", "bool": "boolean"}


def _value_type(declared: str | None, value: Any) -> str:
    """The attribute's declared type in JSON Schema words (a ``decimal`` is a ``number`` even
    when its value is whole: a reader must not take it for an integer attribute); by the
    value only where the catalog does not say (``any``)."""
    if declared is not None and declared != "any":
        if declared.startswith("list["):
            return "array"
        return _DECLARED.get(declared, "string")  # string, date, enum:Name
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "object"
