"""A webhook receiver standing in for the system that sent the order (and for callback targets).

It records every delivery it accepts, duplicates included, because the orchestrator promises
at-least-once delivery and tests must be able to see redeliveries. ``set_down(True)`` makes it
answer 503 so that tests can exercise the sender's retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .core import HttpError, Json, JsonObject, Reply, Request
from .routing import Route, RouteTable
from .server import LoopbackServer

EventPredicate = Callable[[JsonObject], bool]
ACCEPTED_METHODS = frozenset({"POST", "PUT"})


class Listener(LoopbackServer):
    """Records webhook deliveries on any path; optionally protected by a bearer token."""

    def __init__(self, name: str = "listener", *, token: str | None = None) -> None:
        super().__init__(name)
        self.token = token
        self._changed = threading.Condition()
        self._events: list[JsonObject] = []
        self._rejected = 0
        self._down = False
        self._admin = RouteTable(
            [
                Route("GET", "/_sim/health", lambda _: (200, {"status": "ok", "name": name})),
                Route("GET", "/_sim/events", lambda _: (200, self.events())),
                Route("GET", "/_sim/stats", lambda _: (200, self.stats())),
                Route("POST", "/_sim/reset", self._admin_reset),
                Route("POST", "/_sim/config", self._admin_configure),
            ]
        )

    # ----------------------------------------------------------------- Python API

    def events(self) -> list[JsonObject]:
        """Accepted deliveries, oldest first (seq, method, path, headers, body, received_at)."""
        with self._changed:
            return [dict(event) for event in self._events]

    def bodies(self) -> list[Json]:
        """Just the JSON bodies, for terse assertions."""
        return [event["body"] for event in self.events()]

    def set_down(self, down: bool) -> None:
        """While down, every delivery gets 503 and is only counted as rejected."""
        with self._changed:
            self._down = down

    @property
    def down(self) -> bool:
        """Whether deliveries are currently refused."""
        return self._down

    def stats(self) -> JsonObject:
        """Accepted and rejected delivery counts."""
        with self._changed:
            return {"events": len(self._events), "rejected": self._rejected, "down": self._down}

    def reset(self) -> None:
        """Forget every event and come back up."""
        with self._changed:
            self._events.clear()
            self._rejected = 0
            self._down = False

    def wait_for(
        self, predicate: EventPredicate | None = None, timeout: float = 5.0, count: int = 1
    ) -> list[JsonObject]:
        """Block until ``count`` events match ``predicate`` (any event when None).

        Returns the matching events; raises ``TimeoutError`` listing what did arrive, so a
        failing test says what it got instead of only "timed out".
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [e for e in self._events if predicate is None or predicate(e)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        if len(matching) < count:
            got = [event["body"] for event in self.events()]
            raise TimeoutError(f"{len(matching)}/{count} matching events after {timeout}s: {got}")
        return [dict(event) for event in matching]

    # ----------------------------------------------------------------- HTTP

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/_sim/"):
            route, request.params = self._admin.resolve(request.method, request.path)
            status, body = route.handler(request)
            return Reply(status, body)
        if self.token and request.header("Authorization") != f"Bearer {self.token}":
            raise HttpError(401, "unauthorized")
        if request.method not in ACCEPTED_METHODS:
            raise HttpError(405, "method not allowed", allowed=sorted(ACCEPTED_METHODS))
        return self._receive(request)

    def _receive(self, request: Request) -> Reply:
        body = request.body  # 400 on invalid JSON
        with self._changed:
            if self._down:
                self._rejected += 1
                return Reply(503, {"error": "listener down"})
            event: JsonObject = {
                "seq": len(self._events) + 1,
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": request.redacted_headers(),
                "body": body,
                "received_at": time.time(),
            }
            self._events.append(event)
            self._changed.notify_all()
        return Reply(200, {"received": True, "seq": event["seq"]})

    def _admin_reset(self, _: Request) -> tuple[int, Json]:
        self.reset()
        return 200, {"status": "reset"}

    def _admin_configure(self, request: Request) -> tuple[int, Json]:
        body = request.json_object()
        unknown = sorted(set(body) - {"down"})
        if unknown or not isinstance(body.get("down", False), bool):
            raise HttpError(400, "invalid config", detail="only {'down': bool} is supported")
        if "down" in body:
            self.set_down(body["down"])
        return 200, {"down": self.down}
