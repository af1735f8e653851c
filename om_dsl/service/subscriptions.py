"""Hub registrations (TMF622's ``/hub``, TMF637's ``/productInventory/v4/hub``) as the API
shows and checks them.

The runtime's hub (:class:`~om_dsl.runtime.notify.hub.Hub`) keeps registrations and checks the
callback URL (:func:`~om_dsl.runtime.downstream.urls.check_listener_url`: http(s) with a host,
no credentials, no link-local or metadata address).  A ``query`` that parses but names an event
type or a state that never occurs would be a registration that never hears anything, which a
client cannot tell from a quiet system, so the hub refuses it (:meth:`EventFilter.parse`) and
the service answers 400 with the values it knows.
"""

from __future__ import annotations

from typing import Any

from om_dsl.errors import OrderIssue
from om_dsl.runtime.notify.hub import ORDERING, EventFilter, Hub, HubApi, Subscription
from om_dsl.service.errors import ApiError


def register(hub: Hub, callback: str, query: str | None) -> dict[str, Any]:
    """Register a listener with ``hub`` (the service's TMF622 or TMF637 one); the
    registration as TMF shows it.

    Raises:
        ApiError: a 400 ``invalidListener`` for a URL or a query that cannot be used.
    """
    check_query(query, hub.api)
    try:
        sub_id = hub.register(callback, query)
    except ValueError as exc:
        raise _invalid("S003", "body.callback", str(exc)) from None
    return view(hub.get(sub_id))


def view(sub: Subscription) -> dict[str, Any]:
    """TMF ``EventSubscription``; ``query`` is null when the listener hears everything."""
    return {"id": sub.id, "callback": sub.callback, "query": sub.query}


def check_query(query: str | None, api: HubApi = ORDERING) -> None:
    """Raises a 400 for a query that cannot be parsed or can never match (the hub's check)."""
    try:
        EventFilter.parse(query, api)
    except ValueError as exc:
        raise _invalid("S004", "body.query", str(exc)) from None


def _invalid(code: str, path: str, message: str) -> ApiError:
    return ApiError(400, "invalidListener", message, [OrderIssue(code, path, message)])
