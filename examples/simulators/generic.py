"""``POST|PUT|PATCH|DELETE /generic/{anything}``: a catch-all used by generated benchmark catalogs.

Benchmarks generate thousands of technical products that all need *some* downstream endpoint;
this one answers like a real system (an id, a status, the echoed body) without a schema.
"""

from __future__ import annotations

from .core import Json, Request
from .ids import Counters
from .routing import Route, routes_for

GENERIC_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def generic_routes(system: str, counters: Counters) -> list[Route]:
    """Routes whose ids are ``<SYSTEM>-0001``, counted per system."""
    prefix = system.upper()

    def handle(request: Request) -> tuple[int, Json]:
        body = {
            "id": counters.make_id(prefix),
            "status": "ok",
            "resource": request.params["anything"],
            "echo": request.body,
        }
        return 200, body

    return routes_for(GENERIC_METHODS, "/generic/{anything:path}", handle)
