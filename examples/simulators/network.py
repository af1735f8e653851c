"""Network activation: turning service on and off in the network (the slow, often async step).

Endpoints: ``POST /activations``, ``GET /activations/{id}``, ``POST /deactivations``,
``POST /profiles`` and the generic endpoint.
"""

from __future__ import annotations

from .base import Simulator
from .core import HttpError, Json, JsonObject, Request
from .faults import SimConfig
from .generic import generic_routes
from .ids import Counters
from .routing import Route

NAME = "network"


class Network:
    """Network resources; the simulator's lock serializes every handler call."""

    def __init__(self) -> None:
        self.ids = Counters()
        self.activations: dict[str, JsonObject] = {}
        self.profiles: dict[str, JsonObject] = {}

    def clear(self) -> None:
        """Forget every resource and restart the ids."""
        self.ids.clear()
        self.activations.clear()
        self.profiles.clear()

    def routes(self) -> list[Route]:
        """The endpoint table."""
        return [
            Route("POST", "/activations", self.activate),
            Route("GET", "/activations/{id}", self.get_activation),
            Route("POST", "/deactivations", self.deactivate),
            Route("POST", "/profiles", self.create_profile),
            *generic_routes(NAME, self.ids),
        ]

    def activate(self, request: Request) -> tuple[int, Json]:
        """Activate service on ``port_id`` with ``profile``; other fields are echoed."""
        body = request.json_object()
        activation = {
            **body,
            "id": self.ids.make_id("ACT"),
            "state": "active",
            "port_id": body.get("port_id"),
            "profile": body.get("profile") or "default",
        }
        self.activations[activation["id"]] = activation
        return 200, {"activation": activation}

    def get_activation(self, request: Request) -> tuple[int, Json]:
        """Read an activation back (404 when unknown)."""
        activation = self.activations.get(request.params["id"])
        if activation is None:
            raise HttpError(404, "activation not found", id=request.params["id"])
        return 200, {"activation": activation}

    def deactivate(self, request: Request) -> tuple[int, Json]:
        """Deactivate by ``activation_id`` or ``port_id``; a known activation becomes inactive."""
        body = request.json_object()
        activation = self.activations.get(str(body.get("activation_id")))
        if activation is not None:
            activation["state"] = "inactive"
        deactivation = {
            **body,
            "id": self.ids.make_id("DEACT"),
            "state": "completed",
            "activation_id": body.get("activation_id"),
        }
        return 200, {"deactivation": deactivation}

    def create_profile(self, request: Request) -> tuple[int, Json]:
        """Provision a service profile (QoS, APN...) that activations can refer to."""
        body = request.json_object()
        profile = {**body, "id": self.ids.make_id("PRF"), "state": "provisioned"}
        profile.setdefault("name", profile["id"])
        self.profiles[profile["id"]] = profile
        return 201, {"profile": profile}


def create(config: SimConfig | None = None) -> Simulator:
    """A network simulator, not yet started."""
    state = Network()
    return Simulator(NAME, state.routes(), config, on_reset=state.clear)
