"""TMF641 ServiceOrder payloads for a decomposition: one service order per fulfillment request.

Shaped like ``ServiceOrder_Create`` of TMF641 v4 (no ``id``, ``href`` or ``state``: a server
assigns those).  Each line is a ``serviceOrderItem`` whose ``service`` names the technical
product as its ``serviceSpecification`` and carries the attributes as
``serviceCharacteristic``.  Links between lines become ``serviceOrderItemRelationship``:
``reliesOn`` from a chained line to its parent line, or ``dependency`` when the rule says
``after parent`` (the child waits for the parent) or ``before parent`` (the parent waits for
the child, and the child has no link back).

A consumer correlates and deduplicates on ``externalId``, so it is ``<product order id>/<request
id>``: the request id alone (``fr:1``) recurs in every order.  A reference into another
request's service order uses that ``externalId`` as ``serviceOrderId``.  Shared requests a root
uses appear in ``orderRelationship`` as ``reliesOn``, and come first in the list, so a
consumer that creates the payloads in list order has each one before any that refers to it
(a chain between requests is a reference too; only two that refer to each other cannot be);
the product order is a ``cross-ref`` (TMF641's word for the source order).  om_dsl keeps no
service inventory, so a ``modify``, ``delete`` or ``noChange`` line cannot name the service
it changes: its ``relatedEntity`` names the product instance(s) the TMF622 order items gave
(``product.id``), through which the consumer finds it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from om_dsl.ir import models as ir
from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest, Order

_SERVICE_TYPE = {"cfs": "CFS", "rfs": "RFS", "resource": "Resource"}


def service_orders(
    result: Decomposition, order: Order, catalog: ir.Catalog
) -> list[dict[str, Any]]:
    names = {t.name: t.display_name or t.name for t in catalog.technical}
    types = {t.name: {a.name: a.type for a in t.attributes} for t in catalog.technical}
    ids = {request.id: external_id(order.id, request.id) for request in result.requests}
    where = {line.id: ids[request.id] for request in result.requests for line in request.lines}
    waiting = _waiting_children(result)
    context = _Context(order, names, types, where, waiting, ids, _instances(order))
    payloads = [_order(request, context) for request in _used_first(result.requests)]
    return _referred_first(payloads)


def external_id(order_id: str, request_id: str) -> str:
    """A request's ``externalId``: unique across product orders, as a consumer needs it.

    Each part has its ``/`` and ``%`` percent-encoded, so the two parts read back apart: order
    ``o/fr:x`` with request ``fr:y``, and order ``o`` with request ``fr:x/fr:y``, gave one id."""
    return f"{_part(order_id)}/{_part(request_id)}"


def _part(text: str) -> str:
    return text.replace("%", "%25").replace("/", "%2F")


@dataclass(frozen=True, slots=True)
class _Context:
    """What every payload of one decomposition reads."""

    order: Order
    names: dict[str, str]
    types: dict[str, dict[str, str]]
    where: dict[str, str]
    """Line id -> the ``externalId`` of its service order."""
    waiting: dict[str, list[FulfillmentLine]]
    ids: dict[str, str]
    """Request id -> its ``externalId``."""
    instances: dict[str, str]
    """Order item id -> the product instance id its TMF622 item gave (``product.id``)."""


def _used_first(requests: list[FulfillmentRequest]) -> list[FulfillmentRequest]:
    """Shared requests before the roots that use them, each group in decomposition order."""
    return [r for r in requests if r.shared] + [r for r in requests if not r.shared]


def _referred_first(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads with each one before those that refer to it (``orderRelationship``, or an
    item's ``serviceOrderId``), otherwise in their order: shared requests are used by roots,
    but a chain may also refer from a shared one to another (an order line's child of account
    scope) or to a root's line (a shared line chained from it).  Where two refer to each other
    (that last case: the root uses the shared request too), the first stays first."""
    index = {p["externalId"]: n for n, p in enumerate(payloads)}
    needs = [_refers_to(p, index) - {n} for n, p in enumerate(payloads)]
    if all(m < n for n, refs in enumerate(needs) for m in refs):
        return payloads  # the common case: nothing refers forward
    users: dict[int, list[int]] = {}
    for n, refs in enumerate(needs):
        for m in refs:
            users.setdefault(m, []).append(n)
    waiting = [len(refs) for refs in needs]
    ready = [n for n, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    done = [False] * len(payloads)
    out: list[dict[str, Any]] = []
    first_left = 0
    while len(out) < len(payloads):
        if ready:
            n = heapq.heappop(ready)
        else:  # a cycle: the first payload left breaks it
            while done[first_left]:
                first_left += 1
            n = first_left
        if done[n]:
            continue
        done[n] = True
        out.append(payloads[n])
        for user in users.get(n, ()):
            waiting[user] -= 1
            if waiting[user] == 0 and not done[user]:
                heapq.heappush(ready, user)
    return out


def _refers_to(payload: dict[str, Any], index: dict[str, int]) -> set[int]:
    """The positions of the payloads that ``payload`` refers to."""
    refs = {index[r["id"]] for r in payload["orderRelationship"] if r["id"] in index}
    for item in payload["serviceOrderItem"]:
        for rel in item.get("serviceOrderItemRelationship", ()):
            other = rel["orderItem"].get("serviceOrderId")
            if other in index:
                refs.add(index[other])
    return refs


def _instances(order: Order) -> dict[str, str]:
    """Order item id -> the product instance its TMF622 item names, for items that change an
    existing product (an ``add`` item's ``product.id``, if any, names no service that exists:
    a shared line it feeds listed it as one)."""
    existing = {item.id for item in order.items if item.action != "add"}
    found: dict[str, str] = {}
    for item_id, fields in order.client_items.items():
        if item_id not in existing:
            continue
        product = fields.get("product")
        ident = product.get("id") if isinstance(product, dict) else None
        if isinstance(ident, str) and ident:
            found[item_id] = ident
    return found


def _order(request: FulfillmentRequest, ctx: _Context) -> dict[str, Any]:
    order = ctx.order
    payload: dict[str, Any] = {"@type": "ServiceOrder", "externalId": ctx.ids[request.id]}
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
    payload["orderRelationship"] = [
        {"@referredType": "ServiceOrder", "id": ctx.ids[used], "relationshipType": "reliesOn"}
        for used in request.uses
    ] + [{"@referredType": "ProductOrder", "id": order.id, "relationshipType": "cross-ref"}]
    payload["serviceOrderItem"] = [_item(line, ctx, ctx.ids[request.id]) for line in request.lines]
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


def _item(line: FulfillmentLine, ctx: _Context, order_id: str) -> dict[str, Any]:
    names, types, where = ctx.names, ctx.types.get(line.product, {}), ctx.where
    service: dict[str, Any] = {
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
    if line.action != "add":
        _existing(service, line, ctx.instances)
    item: dict[str, Any] = {"@type": "ServiceOrderItem", "id": line.id, "action": line.action}
    item["service"] = service
    relations = []
    if line.parent_line is not None and line.wait != "before_parent":  # that parent waits for it
        relations.append(_relation(line, where, order_id))
    relations += [
        _ref("dependency", child.id, where[child.id], order_id)
        for child in ctx.waiting.get(line.id, [])
    ]
    if relations:
        item["serviceOrderItemRelationship"] = relations
    return item


def _existing(service: dict[str, Any], line: FulfillmentLine, instances: dict[str, str]) -> None:
    """The product instances an existing service belongs to, as ``relatedEntity``."""
    known = sorted({instances[i] for i in line.source_items if i in instances})
    if known:
        service["relatedEntity"] = [
            {"@referredType": "Product", "id": ident, "role": "product"} for ident in known
        ]


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
