"""Roles of API tokens, and the one table of the role each route needs.

SREs and security reviewers asked for least privilege: a dashboard or a Prometheus scraper
reads, a CRM orders, an operator works fallout and manual tasks, and only an admin erases
history.  The roles are ordered, each one able to do what the ones below it can:

=========  =================================================================================
read       every ``GET``: orders, cancel requests, listeners, tasks, fallout, systems, event
           logs, plans, notifications, the inventory, ``/metrics``
client     also what a CRM or CPQ does: create, amend and cancel orders, register listeners
           (of orders, or of products)
operator   also the operational actions: tasks, fallout, item retry/skip/complete, signals,
           systems offline/online, notifications sent again
admin      also ``POST /prune``, which removes finished orders for good
=========  =================================================================================

Ordered rather than route sets: an operator who may skip an item already decides how any
order ends, so keeping ``POST /productOrder`` from them would protect nothing, and one word
per token is what an SRE can review.

An entry without a role (``crm:<token>``, as before roles existed) is an ``operator``: every
route it could call before, and not the new prune route; dev mode (no tokens) is ``admin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from om_dsl.orders.values import did_you_mean


class Role(IntEnum):
    """What a token may do; a higher role may do everything a lower one may."""

    READ = 1
    CLIENT = 2
    OPERATOR = 3
    ADMIN = 4

    def __str__(self) -> str:
        return self.name.lower()


ROLE_NAMES = tuple(str(role) for role in Role)
DEFAULT_ROLE = Role.OPERATOR
"""The role of an entry that names none: what every token could do before roles existed
(every route but the prune route, which came with them and erases history)."""
DEV_ROLE = Role.ADMIN
"""Dev mode's: no tokens, loopback only, everything allowed, as before roles existed."""
OPEN = None
"""A route no API token is asked for: it has rules of its own (see :data:`ROUTE_ROLES`)."""

READ, CLIENT, OPERATOR, ADMIN = Role.READ, Role.CLIENT, Role.OPERATOR, Role.ADMIN
ROUTE_ROLES: Mapping[tuple[str, str], Role | None] = {
    # Open: probes reveal nothing; a callback's single-use token in its path is its credential;
    # the OpenAPI document and its viewer describe the API, no data.
    ("GET", "/health"): OPEN,
    ("GET", "/ready"): OPEN,
    ("POST", "/callbacks/{token}"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/docs/oauth2-redirect"): OPEN,
    # TMF622 (also under /tmf-api/productOrderingManagement/v4: the same routes)
    ("GET", "/productOrder"): READ,
    ("GET", "/productOrder/{id}"): READ,
    ("POST", "/productOrder"): CLIENT,
    ("PATCH", "/productOrder/{id}"): CLIENT,
    ("GET", "/cancelProductOrder"): READ,
    ("GET", "/cancelProductOrder/{id}"): READ,
    ("POST", "/cancelProductOrder"): CLIENT,
    ("GET", "/hub"): READ,
    ("GET", "/hub/{id}"): READ,
    ("POST", "/hub"): CLIENT,
    ("DELETE", "/hub/{id}"): CLIENT,
    # TMF637 (also at its other base paths: the same routes)
    ("GET", "/productInventory/v4/product"): READ,
    ("GET", "/productInventory/v4/product/{id}"): READ,
    ("GET", "/productInventory/v4/hub"): READ,
    ("GET", "/productInventory/v4/hub/{id}"): READ,
    ("POST", "/productInventory/v4/hub"): CLIENT,
    ("DELETE", "/productInventory/v4/hub/{id}"): CLIENT,
    # the operations API
    ("GET", "/productOrder/{id}/status"): READ,
    ("GET", "/productOrder/{id}/events"): READ,
    ("GET", "/productOrder/{id}/plan.svg"): READ,
    ("POST", "/productOrder/{id}/retry"): OPERATOR,
    ("POST", "/productOrder/{id}/skip"): OPERATOR,
    ("POST", "/productOrder/{id}/complete"): OPERATOR,
    ("POST", "/productOrder/{id}/signal"): OPERATOR,
    ("GET", "/fallout"): READ,
    ("POST", "/fallout/retry"): OPERATOR,
    ("GET", "/tasks"): READ,
    ("GET", "/tasks/{id}"): READ,
    ("POST", "/tasks/{id}/claim"): OPERATOR,
    ("POST", "/tasks/{id}/complete"): OPERATOR,
    ("POST", "/tasks/{id}/fail"): OPERATOR,
    ("POST", "/tasks/{id}/reassign"): OPERATOR,
    ("GET", "/systems"): READ,
    ("GET", "/systems/{name}"): READ,
    ("POST", "/systems/{name}/offline"): OPERATOR,
    ("POST", "/systems/{name}/online"): OPERATOR,
    ("GET", "/notifications"): READ,
    ("POST", "/notifications/retry"): OPERATOR,
    ("GET", "/metrics"): READ,
    ("GET", "/whoami"): READ,
    ("POST", "/prune"): ADMIN,
}
"""(method, path as the OpenAPI document lists it) -> the least role that may call it, or
:data:`OPEN`.  The one place that says who may do what: ``tests/service/test_service_roles.py``
fails while a route of the app has no entry here, or an entry names no route."""


def parse_role(text: str, where: str) -> Role:
    """The role named ``text`` (any case), for the token entry at ``where``.

    Raises:
        ValueError: not a role; the message lists the roles and says where the entry is.
    """
    word = text.strip().lower()
    if word in ROLE_NAMES:
        return Role[word.upper()]
    shown = f"'{text}'" if text.strip() else "an empty role"
    raise ValueError(
        f"{where}: {shown} is not a role: give one of {', '.join(ROLE_NAMES)}"
        f"{did_you_mean(word, ROLE_NAMES)}"
    )


Key = tuple[Any, str]
"""(endpoint, method): a route served at several base paths is one endpoint."""


class RouteRoles:
    """The role each route of an app needs, found from its endpoint: a route served at
    several base paths (TMF622's, TMF637's) is one endpoint, listed once in
    :data:`ROUTE_ROLES` under the path the OpenAPI document gives it."""

    def __init__(self, app: FastAPI, table: Mapping[tuple[str, str], Role | None] = ROUTE_ROLES):
        self._table = table
        self._found: dict[Key, tuple[Role | None, str]] = {}
        for endpoint, method, path in _served(app):
            if (method, path) in table:
                self._found[(endpoint, method)] = (table[(method, path)], path)

    def needed(self, route: object, method: str) -> tuple[Role | None, str]:
        """The least role that may call ``route`` (:data:`OPEN`: none) and the path the
        table lists it under; :data:`ADMIN` for a route the table does not list (an
        embedder's own, say): closed unless said otherwise."""
        endpoint = getattr(route, "endpoint", None)
        path = str(getattr(route, "path", "?"))
        return self._found.get((endpoint, method), (ADMIN, path))

    def unlisted(self, app: FastAPI) -> list[str]:
        """``METHOD path`` of every route of ``app`` the table does not cover."""
        return [f"{method} {path}" for endpoint, method, path in _served(app)
                if (endpoint, method) not in self._found]  # fmt: skip

    def stale(self, app: FastAPI) -> list[str]:
        """``METHOD path`` of every entry of the table that names no route of ``app``."""
        served = {(method, path) for _endpoint, method, path in _served(app)}
        return [f"{method} {path}" for method, path in self._table if (method, path) not in served]


def _served(app: FastAPI) -> list[tuple[Any, str, str]]:
    """(endpoint, method, path) of every route of ``app``, at every base path it is served
    at; ``HEAD`` goes with ``GET`` and is not listed."""
    return [(route.endpoint, method, str(route.path))
            for route in iter_route_contexts(app.routes)
            for method in sorted((route.methods or set()) - {"HEAD"})]  # fmt: skip
