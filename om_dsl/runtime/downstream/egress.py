"""The HTTP client of everything the runtime sends out: the address is checked when connecting.

:func:`~om_dsl.runtime.downstream.urls.check_listener_url` refuses a listener URL that spells
a link-local or cloud metadata address, but a host *name* can resolve to one (``evil.example``
with an A record of 169.254.169.254), or to a public address when it is registered and to the
metadata address when it is used (DNS rebinding).  So every connection resolves its host once,
refuses it when any address is one events and callouts must not go to
(:func:`~om_dsl.runtime.downstream.urls.forbidden_host`: link-local, metadata, unspecified),
and connects to the checked address itself: no second resolution can differ.  Loopback and
private addresses stay allowed.

It is an httpcore network backend (httpcore's public extension point for DNS and sockets) in
a connection pool, under a small httpx transport: TLS still starts on the connection with the
URL's host name, so SNI and the certificate check use the name, and the ``Host`` header is the
URL's.  httpx 0.28's own transport takes no network backend, hence the transport here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

import httpcore
import httpx

from om_dsl.runtime.downstream.urls import forbidden_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(httpx.ConnectError):
    """The host names an address the runtime must not connect to; nothing was sent.

    A :class:`httpx.ConnectError`, so code that knows only those treats it as a connection
    that was never made (a callout's failure is retried as its system says); the notifier
    gives such a notification up at once, since asking again would ask the same DNS the same
    question, and an operator sends it again once the DNS is fixed."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of ``host``, in the system resolver's order (tests replace this function:
    it is looked up at each connection)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


async def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses to connect to for ``host``, resolved once.

    Raises:
        RefusedAddress: the name, or any address it resolves to, is forbidden (one bad
            address among good ones too: which one a connection gets is the attacker's pick).
        httpcore.ConnectError: the name does not resolve.
    """
    problem = forbidden_host(host)
    if problem is None:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:  # socket.gaierror: as httpcore reports it, a connect error
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        bad = [a for a in addresses if forbidden_host(str(a))]
        if not bad:
            return addresses
        problem = f"{forbidden_host(str(bad[0]))} ({bad[0]})"
    raise RefusedAddress(f"refused to connect to {host}: it is {problem}")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, connecting only to addresses :func:`checked_addresses` gives,
    tried in order (the next when one cannot be reached)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await checked_addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's request and answer over an httpcore pool of :class:`GuardedBackend`
    connections (no proxies, no Unix sockets: the runtime's clients use neither)."""

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx():
            answer = await self._pool.handle_async_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_AnswerStream(answer.stream),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _AnswerStream(httpx.AsyncByteStream):
    """An answer's body, its errors as httpx's (a read timeout is ``httpx.ReadTimeout``)."""

    def __init__(self, stream: Iterable[bytes] | AsyncIterable[bytes]) -> None:
        assert isinstance(stream, AsyncIterable)
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


@contextlib.contextmanager
def _as_httpx() -> Iterator[None]:
    """httpcore's exceptions as the httpx ones of the same name, which is what callers catch
    (``httpx.ConnectError``, ``httpx.TimeoutException``...); every httpcore error has one."""
    try:
        yield
    except httpx.HTTPError:
        raise
    except Exception as exc:
        twin = _twin(type(exc))
        if twin is None:
            raise
        raise twin(str(exc)) from exc


def _twin(kind: type[BaseException]) -> type[httpx.TransportError] | None:
    """The httpx exception named as ``kind`` or its nearest httpcore base, if any."""
    for cls in kind.__mro__:
        twin = getattr(httpx, cls.__name__, None) if cls.__module__.startswith("httpcore") else None
        if isinstance(twin, type) and issubclass(twin, httpx.TransportError):
            return twin
    return None


def client(timeout: httpx.Timeout | float, limits: httpx.Limits, verify: ssl.SSLContext
           ) -> httpx.AsyncClient:  # fmt: skip
    """An async client for callouts and notifications: connections through
    :class:`GuardedTransport`, no redirects (a request goes where it was sent and nowhere
    else), no proxy settings from the environment (a loopback listener is reached directly)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(limits, verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
