"""A deadline for clients to send their request: uvicorn has none.

uvicorn (0.29 to 0.54 at least) times a connection out only between requests (its keep-alive
timeout, armed once an answer is sent).  A client that connects and sends part of its headers,
or part of its body, and then stays silent holds its connection (a file descriptor, a task)
for ever: some 20,000 of them made ``/health`` time out and filled the log with
``socket.accept() out of system resource``.  ``limit_concurrency`` (``--max-connections``)
turns requests away with a 503 once that many connections are open, but silent connections
never make a request, so they are never turned away, only counted.

:func:`timed_protocol` gives uvicorn an HTTP/1.1 protocol (its own ``h11`` one) that closes
a connection whose client does not keep up, as nginx's ``client_header_timeout`` and
``client_body_timeout`` do:

- the request line and headers must arrive within the timeout, counted from the connection
  (or from the previous answer, on a kept-alive connection);
- the body must not pause for longer than the timeout (each chunk that arrives restarts it).

A request whose body was cut off this way reaches the app as a client that disconnected (one
log line, no answer).

The same protocol turns requests away past ``--max-connections`` with a TMF ``Error`` body
(``serviceBusy``), as every other error of the service: uvicorn's ``limit_concurrency`` answers a
plain-text ``Service Unavailable`` that a TMF client cannot parse, and it already refuses the
request that opens the N-th connection, not the one past N.

The h11 protocol is used even when ``httptools`` is installed: the deadline follows h11's view
of the request (``their_state``), which is public API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import h11
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from om_dsl.service.errors import error_body
from om_dsl.service.logs import PROBES

log = logging.getLogger("om_dsl.service")

_RECEIVING = frozenset({h11.IDLE, h11.SEND_BODY})
"""The client's states while its request is still coming (``IDLE``: not a whole head yet)."""


class ClientDeadline(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request does not arrive in time."""

    timeout_s: float = 30.0
    """Set per server by :func:`timed_protocol`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._limit = self.limit_concurrency
        self.limit_concurrency = None  # uvicorn's plain-text 503: ours is below
        self.app = self._unless_busy(self.app)

    def _unless_busy(self, app: ASGIApp) -> ASGIApp:
        """``app``, or the ``serviceBusy`` answer when more than ``--max-connections``
        connections are open, or requests running (this one counted in both)."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            limit = self._limit
            busy = limit is not None and max(len(self.connections), len(self.tasks)) > limit
            if busy and scope.get("path") not in PROBES:
                BUSY_LOG.refused(limit or 0, self.loop.call_later)
                await _busy(send)
            else:  # a probe is answered: a liveness check must not restart a busy service
                await app(scope, receive, send)

        return guarded

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._follow()  # on a kept-alive connection, the next request's head is due

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Keep the deadline of the head, restart it while a body arrives, drop it once the
        whole request is in (or the connection is ending)."""
        state = self.conn.their_state
        if state is h11.SEND_BODY or (state is h11.IDLE and self._deadline is None):
            self._arm()
        elif state not in _RECEIVING:
            self._disarm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in _RECEIVING and not self.transport.is_closing():
            log.debug("closing a connection from %s: no request within %g s", self.client,
                      self.timeout_s)  # fmt: skip
            self.transport.close()


Later = Callable[[float, Callable[[], None]], object]
"""``loop.call_later``: runs a callback in so many seconds."""


class BusyLog:
    """One warning per ``every`` seconds for requests turned away, with their count: a
    flood of connections (or a slow-client attack) wrote one line per request.

    The count of a period is written when the period ends, by a callback ``later`` schedules
    (the event loop's ``call_later``): written only by the next refusal, the last period of
    a flood was never written at all, and the log said one request was turned away where
    hundreds were.
    """

    def __init__(self, every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._next = 0.0
        self._count = 0
        self._flush_due = False
        self.total = 0
        """Requests turned away since the process started (``GET /metrics``)."""

    def refused(self, limit: int, later: Later | None = None) -> None:
        self._count += 1
        self.total += 1
        now = self._clock()
        if self._flush_due and now < self._next + self.every:
            return  # the period's line is written when it ends
        # (a callback overdue by a whole period is lost: its server's loop stopped first, and
        # BUSY_LOG outlives it in a host that starts the service again)
        self._flush_due = False
        if now >= self._next:
            self._write(limit, now)
        elif later is not None:
            self._flush_due = True
            later(self._next - now, lambda: self._flush(limit))

    def _flush(self, limit: int) -> None:
        self._flush_due = False
        self._write(limit, self._clock())  # the refusal that scheduled it is counted

    def _write(self, limit: int, now: float) -> None:
        log.warning("answered 503 serviceBusy to %d request(s): more than %d connections open",
                    self._count, limit)  # fmt: skip
        self._count, self._next = 0, now + self.every


BUSY_LOG = BusyLog()
"""The process's (every connection's protocol shares it)."""


BUSY_RETRY_AFTER_S = 1
"""The ``Retry-After`` of a ``serviceBusy``: connections come and go within seconds."""


_BUSY_BODY = json.dumps(
    error_body(503, "serviceBusy", "too many connections are open: try again shortly")
).encode()
_BUSY_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BUSY_BODY)).encode()),
    (b"retry-after", str(BUSY_RETRY_AFTER_S).encode()),
    (b"connection", b"close"),
]
"""The same answer every time, made once: it is sent when the service is busiest."""


async def _busy(send: Send) -> None:
    await send({"type": "http.response.start", "status": 503, "headers": _BUSY_HEADERS})
    await send({"type": "http.response.body", "body": _BUSY_BODY, "more_body": False})


def timed_protocol(timeout_s: float) -> type[ClientDeadline]:
    """The protocol class to give ``uvicorn.Config(http=...)`` for one server (uvicorn makes
    each connection's protocol itself, so the timeout travels on the class)."""

    class Timed(ClientDeadline):
        pass

    Timed.timeout_s = timeout_s
    return Timed
