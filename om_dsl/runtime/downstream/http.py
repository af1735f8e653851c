"""One pooled ``httpx.AsyncClient`` per downstream system, and failures as plain reasons.

Clients are bound to the event loop they were created on, so the pool is per loop: when the
runtime's loop ends (``ItemKind.aclose``) the pool is closed, and the next loop gets a new one.
Clients are :func:`om_dsl.runtime.downstream.egress.client`'s: they never follow redirects (a
callout goes to its system and nowhere else), ignore proxy settings of the environment, and
connect to no link-local or cloud metadata address, whatever the system's host name resolves to.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass

import httpx

from om_dsl.runtime.downstream import egress
from om_dsl.runtime.downstream.request import MAX_ANSWER_BYTES

MAX_BODY_BYTES = MAX_ANSWER_BYTES
"""How much of an answer is read: a larger one is cut there (:attr:`Answer.oversize`), never
read whole, so that it is a failure the callout explains, not a memory problem."""


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: building it costs tens of milliseconds, which
    every new client (one per system per loop, the notifier's) would otherwise pay again."""
    return httpx.create_ssl_context()


class TransportFailure(Exception):
    """The request got no (usable) answer: refused, timed out, or cut.

    ``unsure``: the request may have reached the system and taken effect (everything but a
    connection that was never made): a cancel or an amendment must not assume it did nothing.
    """

    def __init__(self, message: str, *, unsure: bool = True) -> None:
        super().__init__(message)
        self.unsure = unsure


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool
    """The system replayed a stored answer for the idempotency key."""
    oversize: bool = False
    """The answer is larger than :data:`MAX_BODY_BYTES`: ``body`` holds its start only."""


class ClientPool:
    """Keep-alive connections per (system, base URL, timeout) on the current loop."""

    def __init__(self, max_connections: int = 100) -> None:
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[tuple[str, str, float], httpx.AsyncClient] = {}

    def client(self, system: str, base: str, timeout_s: float) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop: the old clients cannot be used on it
            self._loop, self._clients = loop, {}
        key = (system, base, timeout_s)
        found = self._clients.get(key)
        if found is None:
            found = self._clients[key] = egress.client(
                httpx.Timeout(timeout_s), self._limits, ssl_context()
            )
        return found

    async def aclose(self) -> None:
        clients, self._clients, self._loop = list(self._clients.values()), {}, None
        for client in clients:
            await client.aclose()


async def send(client: httpx.AsyncClient, request: httpx.Request, timeout_s: float) -> Answer:
    """Send and read the answer (at most :data:`MAX_BODY_BYTES` of it, see
    :attr:`Answer.oversize`) within ``timeout_s`` overall.

    Raises:
        TransportFailure: with a reason that says which kind of failure it was (whole, not
            redacted: see :func:`~om_dsl.runtime.downstream.redaction.excerpt`).
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await _exchange(client, request)
    except httpx.ConnectTimeout:  # no connection was made: nothing was sent
        raise TransportFailure(f"cannot connect within {timeout_s:g} s", unsure=False) from None
    except (TimeoutError, httpx.TimeoutException):
        raise TransportFailure(f"no answer within {timeout_s:g} s (timed out)") from None
    except httpx.ConnectError as exc:
        raise TransportFailure(f"cannot connect ({_text(exc)})", unsure=False) from None
    except httpx.HTTPError as exc:
        raise TransportFailure(
            f"the connection failed ({type(exc).__name__}: {_text(exc)})"
        ) from None


async def _exchange(client: httpx.AsyncClient, request: httpx.Request) -> Answer:
    """The status and the body, streamed and cut at :data:`MAX_BODY_BYTES`: the rest of a
    larger answer is never read (the connection is closed instead)."""
    response = await client.send(request, stream=True)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                break
    finally:
        await response.aclose()
    replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
    body = b"".join(chunks)
    oversize = len(body) > MAX_BODY_BYTES
    return Answer(response.status_code, body[:MAX_BODY_BYTES], replayed, oversize)


def _text(exc: Exception) -> str:
    """The whole text of ``exc``: never shortened here, because a shortened text could keep half
    of a credential that redaction then misses; the callout redacts it, then shortens it."""
    return str(exc) or type(exc).__name__
