"""TMF622 product orders over the runtime: create, read (live states), list with paging.

An order is validated and decomposed *before* anything is stored (an invalid order raises
:class:`OrderValidationError` with every issue and its JSON path, and the store is untouched);
``runtime.submit`` then stores the order, its plan and its items in one transaction.  Views are
the runtime's TMF622 views (:class:`om_dsl.runtime.notify.tmf.OrderViews`), the same shape the
notifications carry, read from the store: what a client sees is committed state.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from om_dsl.errors import NotFound, OperatorActionRejected, OrderIssue, OrderValidationError
from om_dsl.orders.issues import show
from om_dsl.orders.models import Order
from om_dsl.orders.tmf622 import NO_ID, is_tmf622
from om_dsl.runtime.events import ORDER_CREATED, ORDER_STATE
from om_dsl.runtime.notify.tmf import every_item
from om_dsl.runtime.states import OrderState, parse_order_states
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError
from om_dsl.service.order_requests import KeyUse, request_digest
from om_dsl.suggest import closest

ACKNOWLEDGED = OrderState.ACKNOWLEDGED.value
ALWAYS = ("id", "href", "@type")
"""Attributes a ``fields`` selection always keeps (TMF: the identity of the resource)."""
MAX_ID_CHARS = 200
ID_PUNCTUATION = "-._~:@"
ID_CHARS = frozenset(string.ascii_letters + string.digits + ID_PUNCTUATION)
"""What an order id may hold: RFC 3986's unreserved characters plus ``:`` and ``@``.  A client
can paste such an id into ``/productOrder/{id}`` unencoded, and into a hub query
(``id=...``), and get the same id back; blanks, controls, ``/ ? # % & = + ,`` and non-ASCII
cannot make that trip."""
DOT_SEGMENTS = frozenset({".", ".."})
MAX_KEY_CHARS = 255
KEY_PATH = "header.Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Created:
    """The answer to a create: the order's view, and 201 (created) or 200 (the order an
    ``Idempotency-Key`` created before, as it is now)."""

    view: dict[str, Any]
    status: int


def create(svc: Service, body: bytes, client: str = "", key: str | None = None) -> Created:
    """Validate, decompose, plan and store an order; returns it as created (acknowledged).

    ``key`` is the client's ``Idempotency-Key`` (``client`` its API client: keys are per
    client); a key used before answers with the order it created (see :func:`_replay`).

    Raises:
        OrderValidationError, DecompositionError, PlanError: nothing was stored.
        ApiError: 409 ``duplicateOrder`` (this order exists: a retry), ``orderIdClash``
            (another order has its id) or ``idempotencyKeyReused``; nothing was stored.
    """
    order = svc.decomposer.read(body)
    _check_id(order.id)
    digest = request_digest(json.loads(body))
    if key is None:
        return Created(_create(svc, order, digest, client, None), 201)
    with svc.key_lock:
        used = svc.requests.by_key(client, key)
        if used is not None and svc.runtime.store.has_order(used.order_id):
            return _replay(svc, used, digest, key)
        return Created(_create(svc, order, digest, client, key), 201)


def _create(
    svc: Service, order: Order, digest: str, client: str, key: str | None
) -> dict[str, Any]:
    """Store a new order, its request's digest after it; an existing id is a 409 that says
    whether it is this order (a retry) or another."""
    _refuse_existing(svc, order.id, digest)
    work = svc.decomposer.decompose(order, svc.config.installed_base, svc.runtime.inventory)
    try:
        order_id = svc.runtime.submit(work, order)
    except OperatorActionRejected:
        _refuse_existing(svc, order.id, digest)  # a concurrent create of the same id won
        raise
    svc.requests.add(order_id, digest, client, key)
    view = view_of(svc, order_id)
    view["state"] = ACKNOWLEDGED
    for item in every_item(view):
        item["state"] = ACKNOWLEDGED
    return view


def _refuse_existing(svc: Service, order_id: str, digest: str) -> None:
    """A 409 with the existing order's ``Location`` when the id is taken: ``duplicateOrder``
    when its create request had this content (a retry of a POST that was carried out: the
    order is there), ``orderIdClash`` otherwise (or when the service does not know what it
    was created with).  Both used to be one ``rejected``, without a ``Location``."""
    if not svc.runtime.store.has_order(order_id):
        return
    location = {"Location": svc.href("productOrder", order_id)}
    if svc.requests.digest(order_id) == digest:
        message = (
            f"order {order_id} exists already with this content: this request is a "
            "retry of one that was carried out; the order is at its Location"
        )
        raise ApiError(409, "duplicateOrder", message, headers=location)
    message = (
        f"order {order_id} exists already, with other content (or content the service "
        "cannot compare): give the new order an id of its own; the existing one is at "
        "its Location"
    )
    raise ApiError(409, "orderIdClash", message, headers=location)  # fmt: skip


def _replay(svc: Service, used: KeyUse, digest: str, key: str) -> Created:
    """A create with an ``Idempotency-Key`` used before: with the same content, the order the
    key created, as it is now (200); with other content, a 409 ``idempotencyKeyReused``."""
    if used.digest == digest:
        return Created(view_of(svc, used.order_id), 200)
    location = {"Location": svc.href("productOrder", used.order_id)}
    message = (
        f"the Idempotency-Key {show(key)} was used for order {used.order_id}, whose "
        "content differs: a new order needs a new key"
    )
    raise ApiError(409, "idempotencyKeyReused", message, headers=location)


def idempotency_key(value: str | None, given: int = 1) -> str | None:
    """The ``Idempotency-Key`` header's value, checked (400, S023): 1-255 printable ASCII
    characters, as the key is kept and compared as it is, and one header (``given``: how many
    the request has; the first was used, silently, when a proxy or a client added another)."""
    if value is None:
        return None
    if given > 1:
        message = f"the request has {given} Idempotency-Key headers: send one"
        raise ApiError(400, "invalidRequest", message, [OrderIssue("S023", KEY_PATH, message)])
    if not 1 <= len(value) <= MAX_KEY_CHARS or not all(" " < ch < "\x7f" for ch in value):
        message = (f"an Idempotency-Key is 1 to {MAX_KEY_CHARS} printable ASCII characters "
                   "without blanks (a UUID, say)")  # fmt: skip
        raise ApiError(400, "invalidRequest", message, [OrderIssue("S023", KEY_PATH, message)])
    return value


def amend(svc: Service, order_id: str, body: bytes, by: str | None = None) -> dict[str, Any]:
    """Amend an order with its revised version; returns the order as it is now.

    The body is the whole revised order (a TMF622 ProductOrder or a native order): its
    ``productOrderItem`` list replaces the order's, as a JSON merge patch replaces a list.
    Validated and planned before anything changes (see ``Runtime.amend``).

    Raises:
        OrderValidationError, DecompositionError, PlanError: nothing changed (400).
        NotFound: no such order (404).
        OperatorActionRejected: finished, being cancelled, past the point of no return
            of a root item the revision touches, or items still ran after ``amend``'s settle
            time, during which none of the order's items started (409).

    ``by``: the client's name, kept in the amendment's event-log row.
    """
    _refuse_partial(body, lambda: _states_had(svc, order_id))
    installed = svc.config.installed_base
    svc.runtime.amend(order_id, with_id(body, order_id), installed_base=installed, by=by)
    svc.views.forget(order_id)
    return view_of(svc, order_id)


def _refuse_partial(body: bytes, had: Callable[[], list[str]]) -> None:
    """A PATCH that asks to cancel (``"state": "cancelled"``, as some TMF clients cancel) was
    answered 200 and the order carried on: the state, being the service's, is not read.  So
    was any other state (``"held"``): a client must not believe it changed the state.  A
    state the order has had (``had``, read only when a state is sent) is taken, as a
    GET -> PATCH round trip sends back what the GET said, maybe a moment ago.

    A PATCH of the changed fields alone (a JSON merge patch, as a TMF client may send)
    would read as "not an order"; say what to send instead.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # the reader says what is wrong with it
        return
    if isinstance(data, dict):
        _refuse_state(data.get("state"), had)
    if isinstance(data, dict) and "productOrderItem" not in data and "items" not in data:
        named = ", ".join(show(name) for name in list(data)[:5])
        given = f"the revision names {named} but no items" if data else "the revision is empty"
        raise OrderValidationError([OrderIssue("S018", "body", (
            f"{given}: PATCH takes the whole revised order, as it would be POSTed (every item "
            "in productOrderItem, or in items for a native order), not the changed fields alone"
        ))])  # fmt: skip


def _refuse_state(state: Any, had: Callable[[], list[str]]) -> None:
    """S020 for a revision whose ``state`` is none the order has had, the latest last
    (``null`` is no state; an unknown order is the amendment's 404).

    Only the current state was taken at first: an order that went from ``inProgress`` to
    ``pending`` between a client's GET and its PATCH refused the state the GET had said.
    """
    if state is None:
        return
    states = had()
    if not states or state in states:
        return
    current = states[-1]
    how = ('cancel with POST /cancelProductOrder '
           '{"productOrder": {"id": "...", "@referredType": "ProductOrder"}}')  # fmt: skip
    if str(state).lower() in ("cancelled", "canceled"):
        message = ("the revision sets state to 'cancelled', which a PATCH cannot do: the state "
                   f"is the service's to set. {how[0].upper()}{how[1:]}")  # fmt: skip
    else:
        message = (f"the revision sets state to {show(state)}, but the order is "
                   f"{show(current)}: a PATCH cannot change the state, which is "
                   "the service's to set; leave state out (or send one the order has had), and "
                   f"{how}")  # fmt: skip
    raise OrderValidationError([OrderIssue("S020", "state", message)])


def _states_had(svc: Service, order_id: str) -> list[str]:
    """The states the order has had, from its event log, and its state now last ([] for an
    unknown order)."""
    record = svc.runtime.store.order(order_id)
    if record is None:
        return []
    moves = svc.runtime.store.events(order_id=order_id)
    had = [e.to_state for e in moves if e.kind in (ORDER_CREATED, ORDER_STATE) and e.to_state]
    return [*had, record.state]


def with_id(body: bytes, order_id: str) -> bytes:
    """The revised order with the order's id: a PATCH body seldom names it (the path does).
    It is written into the text, so that every check of the text (a key given twice, the
    nesting depth) still applies; a body that is not a JSON object is left to the reader.

    A TMF622 order's empty (or null) id is no id, as on create (where it gets one made from
    its content): it is replaced by the path's, where it was a 400 (O071, "the revision is for
    order po-..."). A native order's empty id stays, for the reader to refuse, as on create.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # the reader says what is wrong with it
        return body
    if not isinstance(data, dict):
        return body
    if "id" in data:
        return _replace_no_id(body, order_id) if _no_tmf_id(data) else body
    start = body.index(b"{") + 1
    rest = body[start:].lstrip()
    field = json.dumps({"id": order_id})[1:-1].encode()
    return body[:start] + field + (b"" if rest.startswith(b"}") else b", ") + body[start:]


def _no_tmf_id(data: dict[str, Any]) -> bool:
    return is_tmf622(data) and data["id"] in NO_ID


def _replace_no_id(body: bytes, order_id: str) -> bytes:
    """The body with the value of its top-level ``id`` (the last one, which ``json.loads``
    kept) replaced by ``order_id``; the body as it was when it is not UTF-8 text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    start, end = _member_spans(text)["id"]
    return (text[:start] + json.dumps(order_id) + text[end:]).encode("utf-8")


def _member_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where the value of each top-level member of a JSON object text is, by name (a name
    given twice: its last value).  Only for a text ``json.loads`` has read already."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    pos = _blanks(text, text.index("{") + 1)
    while text[pos] != "}":
        name, pos = decoder.raw_decode(text, pos)  # a key: a JSON string
        pos = _blanks(text, _blanks(text, pos) + 1)  # past the colon
        _, end = decoder.raw_decode(text, pos)
        spans[name] = (pos, end)
        pos = _blanks(text, end)
        if text[pos] == ",":
            pos = _blanks(text, pos + 1)
    return spans


def _blanks(text: str, pos: int) -> int:
    """The position after the JSON blanks at ``pos``."""
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _check_id(order_id: str) -> None:
    """The id becomes a path segment (``/productOrder/{id}``), so it must be one as it is.

    Checked before anything is stored: an id that cannot round-trip is a 400, never an order
    that runs and cannot be addressed.
    """
    problem = _id_problem(order_id)
    if problem:
        raise OrderValidationError([OrderIssue("S001", "id", problem)])


def _id_problem(order_id: str) -> str | None:
    if len(order_id) > MAX_ID_CHARS:
        return f"an order id may have at most {MAX_ID_CHARS} characters"
    bad = sorted(set(order_id) - ID_CHARS)
    if bad:
        shown = ", ".join(repr(ch) for ch in bad[:5])
        return (
            f"an order id may hold only ASCII letters, digits and {' '.join(ID_PUNCTUATION)} "
            f"(it is a path segment of the order's URL), not {shown}"
        )
    if order_id in DOT_SEGMENTS:
        return f"an order id cannot be '{order_id}' (URLs drop such a path segment)"
    return None


def view_of(svc: Service, order_id: str) -> dict[str, Any]:
    """The order with the live states of the order and its items; NotFound when unknown."""
    view = svc.views.product_order(order_id)
    if view is None:
        raise NotFound(f"no product order {order_id}")
    return view


@dataclass(frozen=True, slots=True)
class Filter:
    """What ``GET /productOrder`` lists: orders in ``states``, with the ``external_id``
    (TMF622 ``externalId``, an exact match: a CPQ finds its orders by its quote id)."""

    states: frozenset[str] | None = None
    external_id: str | None = None


def listing(
    svc: Service, wanted: Filter, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the orders ``wanted`` (oldest first) and how many match in all."""
    runtime = svc.runtime
    total = len(runtime.orders(wanted.states, external_id=wanted.external_id))
    records = runtime.orders(wanted.states, offset, limit, wanted.external_id)
    views = [svc.views.product_order(record.id) for record in records]
    return [v for v in views if v is not None], total


def parse_states(text: str | None) -> frozenset[str] | None:
    """``state=completed,held`` -> the states; an unknown one is a 400 that lists them."""
    if not text:
        return None
    try:
        return parse_order_states(text)
    except ValueError as exc:
        issue = OrderIssue("S002", "query.state", str(exc))
        raise ApiError(400, "invalidRequest", issue.message, [issue]) from None


def selected(view: dict[str, Any], fields: str | None, model: type[BaseModel]) -> dict[str, Any]:
    """The attributes of one resource that a TMF ``fields`` selection keeps (the identity too).

    Any first-level attribute the view has may be selected, a vendor extension the client
    sent (``x_cpqQuoteId``) too, and any the resource may have (``completionDate`` before the
    order completes); any other name is unknown to this resource: a 400 (S017).
    """
    return select(view, selection(fields, _attributes(model, [view]), listing=False))


def selected_page(
    views: list[dict[str, Any]], fields: str | None, model: type[BaseModel]
) -> list[dict[str, Any]]:
    """A list page with only the attributes of a ``fields`` selection.

    A name no view of the page has may still be an attribute of orders on other pages (an
    extension only some clients send), so a list refuses only a name that cannot be one: a
    path (``productOrderItem.state``), or a misspelling of an attribute the resource or the
    page has (``sate``).  The answer then does not depend on the page, and an empty page is
    an empty list.
    """
    wanted = selection(fields, _attributes(model, views), listing=True)
    return [select(view, wanted) for view in views]


def selection(fields: str | None, known: set[str], listing: bool) -> set[str] | None:
    """The attributes a ``fields`` selection keeps (the identity too), None for all.

    A name the resource does not have is a 400 (S017) that lists those it has: it used to be
    ignored, so `fields=productOrderItem.state` quietly returned the identity alone.  In a
    list (``listing``) only names that cannot be an attribute are refused (see
    :func:`selected_page`).
    """
    if fields is None:
        return None
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    if not wanted:  # as an empty state= is: it used to answer whole orders
        message = "fields names no attribute: name at least one, or leave fields out"
        issue = OrderIssue("S014", "query.fields", message)
        raise ApiError(400, "invalidRequest", message, [issue])
    unknown = sorted(n for n in wanted - known if not listing or _not_an_attribute(n, known))
    if unknown:
        named = ", ".join(_with_hint(name, known) for name in unknown)
        message = (
            f"fields names {named}, which this resource does not have; it selects "
            f"first-level attributes: {', '.join(sorted(known))}"
        )
        issue = OrderIssue("S017", "query.fields", message)
        raise ApiError(400, "invalidRequest", message, [issue])
    return wanted | set(ALWAYS)


def _attributes(model: type[BaseModel], views: list[dict[str, Any]]) -> set[str]:
    """What a selection may name: the resource's TMF attributes and what the views have."""
    return attribute_names(model).union(*views)


def _not_an_attribute(name: str, known: set[str]) -> bool:
    """A path (only first-level attributes are selected), or a misspelled known name."""
    return "." in name or "[" in name or closest(name, known) is not None


def _with_hint(name: str, known: set[str]) -> str:
    suggestion = closest(name, known)
    return f"{name} (did you mean {suggestion}?)" if suggestion else name


def select(view: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    """Only the attributes of a :func:`selection`."""
    if wanted is None:
        return view
    return {name: value for name, value in view.items() if name in wanted}


def attribute_names(model: type[BaseModel]) -> set[str]:
    """The first-level attribute names of a TMF resource as JSON writes them (``@type``)."""
    return {field.alias or name for name, field in model.model_fields.items()}


def refuse_unknown_parameters(query: Mapping[str, str], known: Collection[str]) -> None:
    """A query parameter the route does not read is a 400 (S016): `?externalId=X` used to
    return every order, a wrong answer to a client looking one up (and `/tasks?queu=X` every
    task).  The message names those the route reads."""
    unknown = sorted(set(query) - set(known))
    if unknown:
        reads = ", ".join(known) or "none"
        message = f"unknown query parameter(s) {', '.join(unknown)}; this route reads {reads}"
        raise ApiError(400, "invalidRequest", message, [OrderIssue("S016", "query", message)])
