"""Billing: customer accounts and product subscriptions (the "charging starts" step of an order).

Endpoints: ``POST /accounts``, ``GET /accounts/{id}``, ``POST /subscriptions``,
``GET /subscriptions/{id}``, ``DELETE /subscriptions/{id}`` and the generic endpoint.
"""

from __future__ import annotations

from .base import Simulator
from .core import HttpError, Json, JsonObject, Request, require
from .faults import SimConfig
from .generic import generic_routes
from .ids import Counters
from .routing import Route

NAME = "billing"


class Billing:
    """Billing resources; the simulator's lock serializes every handler call."""

    def __init__(self) -> None:
        self.ids = Counters()
        self.accounts: dict[str, JsonObject] = {}
        self.subscriptions: dict[str, JsonObject] = {}

    def clear(self) -> None:
        """Forget every resource and restart the ids."""
        self.ids.clear()
        self.accounts.clear()
        self.subscriptions.clear()

    def routes(self) -> list[Route]:
        """The endpoint table."""
        return [
            Route("POST", "/accounts", self.create_account),
            Route("GET", "/accounts/{id}", self.get_account),
            Route("POST", "/subscriptions", self.create_subscription),
            Route("GET", "/subscriptions/{id}", self.get_subscription),
            Route("DELETE", "/subscriptions/{id}", self.terminate_subscription),
            *generic_routes(NAME, self.ids),
        ]

    def create_account(self, request: Request) -> tuple[int, Json]:
        """Open an account; any extra fields (name, segment...) are kept."""
        body = request.json_object()
        account = {**body, "id": self.ids.make_id("ACC"), "status": "active"}
        account.setdefault("currency", "EUR")
        self.accounts[account["id"]] = account
        return 201, account

    def get_account(self, request: Request) -> tuple[int, Json]:
        """Read an account back (404 when unknown)."""
        return 200, _find(self.accounts, request.params["id"], "account")

    def create_subscription(self, request: Request) -> tuple[int, Json]:
        """Start charging ``product`` on ``account``; accounts created elsewhere are accepted."""
        body = request.json_object()
        require(body, "account", "product")
        subscription = {
            **body,
            "id": self.ids.make_id("SUB"),
            "status": "active",
            "plan": body.get("plan") or "standard",
            "billing_cycle": body.get("billing_cycle") or "monthly",
        }
        self.subscriptions[subscription["id"]] = subscription
        return 201, subscription

    def get_subscription(self, request: Request) -> tuple[int, Json]:
        """Read a subscription back (404 when unknown)."""
        return 200, _find(self.subscriptions, request.params["id"], "subscription")

    def terminate_subscription(self, request: Request) -> tuple[int, Json]:
        """Stop charging. Unknown ids (installed base not modelled here) terminate too."""
        sub_id = request.params["id"]
        subscription = self.subscriptions.setdefault(sub_id, {"id": sub_id})
        subscription["status"] = "terminated"
        return 200, {"id": sub_id, "status": "terminated"}


def _find(table: dict[str, JsonObject], key: str, kind: str) -> JsonObject:
    if key not in table:
        raise HttpError(404, f"{kind} not found", id=key)
    return table[key]


def create(config: SimConfig | None = None) -> Simulator:
    """A billing simulator, not yet started."""
    state = Billing()
    return Simulator(NAME, state.routes(), config, on_reset=state.clear)
