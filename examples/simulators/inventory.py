"""Inventory: physical and logical resources reserved for an order (ports, numbers, SIMs, IPs).

Endpoints: ``POST /ports/reserve``, ``POST /ports/release``, ``GET /ports/{id}``,
``POST /numbers/reserve``, ``POST /numbers/release``, ``POST /sims/assign``,
``POST /ips/allocate`` and the generic endpoint.
"""

from __future__ import annotations

import ipaddress

from .base import Simulator
from .core import HttpError, Json, JsonObject, Request, require
from .faults import SimConfig
from .generic import generic_routes
from .ids import Counters
from .routing import Route

NAME = "inventory"
IP_POOL = ipaddress.IPv4Network("10.64.0.0/10")
MAX_IPS = 256


class Inventory:
    """Inventory resources; the simulator's lock serializes every handler call."""

    def __init__(self) -> None:
        self.ids = Counters()
        self.ports: dict[str, JsonObject] = {}
        self.numbers: dict[str, JsonObject] = {}
        self.sims: dict[str, JsonObject] = {}
        self.ips: list[str] = []

    def clear(self) -> None:
        """Forget every resource and restart the ids."""
        self.ids.clear()
        self.ports.clear()
        self.numbers.clear()
        self.sims.clear()
        self.ips.clear()

    def routes(self) -> list[Route]:
        """The endpoint table."""
        return [
            Route("POST", "/ports/reserve", self.reserve_port),
            Route("POST", "/ports/release", self.release_port),
            Route("GET", "/ports/{id}", self.get_port),
            Route("POST", "/numbers/reserve", self.reserve_number),
            Route("POST", "/numbers/release", self.release_number),
            Route("POST", "/sims/assign", self.assign_sim),
            Route("POST", "/ips/allocate", self.allocate_ips),
            *generic_routes(NAME, self.ids),
        ]

    def reserve_port(self, request: Request) -> tuple[int, Json]:
        """Reserve a free port of ``technology`` (e.g. ``fiber``, ``copper``) at ``site``."""
        body = request.json_object()
        require(body, "technology")
        port = {
            "id": self.ids.make_id("PORT"),
            "technology": body["technology"],
            "site": body.get("site") or "CO-AMS-01",
            "status": "reserved",
        }
        self.ports[port["id"]] = port
        return 200, {"port": port}

    def release_port(self, request: Request) -> tuple[int, Json]:
        """Give a port back; unknown ids are released too (installed base not modelled)."""
        body = request.json_object()
        require(body, "port_id")
        port_id = str(body["port_id"])
        port = self.ports.setdefault(port_id, {"id": port_id})
        port["status"] = "released"
        return 200, {"port": port}

    def get_port(self, request: Request) -> tuple[int, Json]:
        """Read a port back (404 when unknown)."""
        port = self.ports.get(request.params["id"])
        if port is None:
            raise HttpError(404, "port not found", id=request.params["id"])
        return 200, {"port": port}

    def reserve_number(self, request: Request) -> tuple[int, Json]:
        """Reserve ``msisdn`` if given (409 when taken), else the next free number."""
        body = request.json_object()
        msisdn = str(body.get("msisdn") or f"3161{self.ids.next('MSISDN'):07d}")
        if self.numbers.get(msisdn, {}).get("status") == "reserved":
            raise HttpError(409, "number already reserved", msisdn=msisdn)
        number = {"msisdn": msisdn, "status": "reserved", "type": body.get("type") or "mobile"}
        self.numbers[msisdn] = number
        return 200, {"number": number}

    def release_number(self, request: Request) -> tuple[int, Json]:
        """Return a number to the pool."""
        body = request.json_object()
        require(body, "msisdn")
        number = {"msisdn": str(body["msisdn"]), "status": "available"}
        self.numbers[number["msisdn"]] = number
        return 200, {"number": number}

    def assign_sim(self, request: Request) -> tuple[int, Json]:
        """Assign a SIM card, optionally bound to ``msisdn``."""
        body = request.json_object()
        serial = self.ids.next("SIM")
        iccid = f"8900{serial:015d}"
        sim: JsonObject = {
            "iccid": iccid,
            "imsi": f"20404{serial:010d}",
            "msisdn": body.get("msisdn"),
            "status": "assigned",
        }
        self.sims[iccid] = sim
        return 200, {"sim": sim}

    def allocate_ips(self, request: Request) -> tuple[int, Json]:
        """Allocate ``count`` consecutive addresses from 10.64.0.0/10."""
        count = request.json_object().get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_IPS:
            raise HttpError(400, f"count must be an integer between 1 and {MAX_IPS}")
        start = len(self.ips) + 1
        new = [str(IP_POOL[start + offset]) for offset in range(count)]
        self.ips.extend(new)
        return 200, {"ips": new, "prefix": str(IP_POOL)}


def create(config: SimConfig | None = None) -> Simulator:
    """An inventory simulator, not yet started."""
    state = Inventory()
    return Simulator(NAME, state.routes(), config, on_reset=state.clear)
