"""Bearer-token authentication for the API.

Each client has a name and a token (``ServiceConfig.tokens``).  Only SHA-256 digests of the
tokens are kept in memory after start, and a presented token is compared with every one of
them in constant time, so neither timing nor a memory dump of the app gives a token away.
The client's name is the *principal*: it is who claims a manual task or takes a system offline
when the request does not name a person.  Its role (:mod:`om_dsl.service.roles`) says which
routes it may call: :func:`check_role` refuses the others with a 403, before the body is read.

Without tokens the service runs in dev mode: it binds loopback only (``ServiceConfig.check``)
and, in case it sits behind a proxy, also refuses clients that are not on loopback, requests
addressed to another host name (DNS rebinding) and requests from web pages elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers

from om_dsl.logfields import fields
from om_dsl.service.config import is_loopback
from om_dsl.service.errors import ApiError
from om_dsl.service.roles import DEFAULT_ROLE, DEV_ROLE, Role

log = logging.getLogger("om_dsl.service")
DEV_PRINCIPAL = "dev"
bearer = HTTPBearer(auto_error=False, description="An API token from OM_TOKENS.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the name the token is registered under (``dev`` in dev mode), and
    the role it was given (dev mode's: every route)."""

    name: str
    role: Role = DEFAULT_ROLE


class TokenCheck:
    """Tells who a request comes from, or raises a 401/403 :class:`ApiError`."""

    def __init__(
        self, tokens: Mapping[str, str], role_of: Callable[[str], Role] = lambda _: DEFAULT_ROLE
    ) -> None:
        """``role_of``: the role of a client, by name (``ServiceConfig.role_of``)."""
        self._digests = [(name, _digest(token)) for name, token in tokens.items()]
        self._role_of = role_of

    @property
    def dev_mode(self) -> bool:
        return not self._digests

    def principal(
        self,
        credentials: HTTPAuthorizationCredentials | None,
        client: str,
        host: str | None = None,
        origin: str | None = None,
        proxied: Iterable[str] = (),
    ) -> Principal:
        """``host`` and ``origin`` are the request's headers, ``proxied`` the addresses a
        proxy says it came from (:func:`proxied_for`), all checked in dev mode only."""
        if self.dev_mode:
            if not all(map(is_loopback, [client, *proxied])):
                raise refused(403, "dev mode (no API tokens) serves loopback only")
            _check_browser_reach(host, origin)
            return Principal(DEV_PRINCIPAL, DEV_ROLE)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise refused(401, "an API token is required (Authorization: Bearer)")
        name = self._match(credentials.credentials)
        if name is None:
            raise refused(401, "the API token is not valid")
        return Principal(name, self._role_of(name))

    def _match(self, token: str) -> str | None:
        presented = _digest(token)
        found: str | None = None
        for name, digest in self._digests:  # no early exit: every check costs the same
            if hmac.compare_digest(presented, digest):
                found = name
        return found


PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
"""The headers in which a proxy names the client it forwards for (RFC 7239's ``Forwarded``,
and the usual ``X-Forwarded-For`` and nginx's ``X-Real-IP``)."""


def proxied_for(headers: Headers) -> list[str]:
    """Every address a proxy header of the request names as a client (each hop of
    ``X-Forwarded-For``, each ``for=`` of ``Forwarded``, ``X-Real-IP``), without ports or
    brackets; ``unknown`` or an obfuscated name (``_hidden``) as it is, so it is no loopback.

    Dev mode refuses a request forwarded for a remote client.  uvicorn makes the client the
    ``X-Forwarded-For`` address when the proxy is on loopback, so only that header was
    refused: a local proxy that says ``Forwarded: for=8.8.8.8`` or ``X-Real-IP: 8.8.8.8``
    let remote clients into an open API."""
    found: list[str] = []
    for name in PROXY_HEADERS:
        for value in headers.getlist(name):  # each line of a header sent twice
            entries = _forwarded_for(value) if name == "forwarded" else value.split(",")
            found.extend(_address(entry) for entry in entries)
    return found


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` values of an RFC 7239 ``Forwarded`` header (``for=1.2.3.4;proto=http,
    for="[2001:db8::1]:4711"``)."""
    pairs = (pair.strip() for element in value.split(",") for pair in element.split(";"))
    return [pair[4:] for pair in pairs if pair[:4].lower() == "for="]


def _address(entry: str) -> str:
    """``"[2001:db8::1]:4711"`` -> ``2001:db8::1``, ``1.2.3.4:80`` -> ``1.2.3.4``."""
    text = entry.strip().strip('"').strip()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _check_browser_reach(host: str | None, origin: str | None) -> None:
    """In dev mode nothing is asked of the caller, so a web page the developer has open could
    drive the API: a cross-site request carries a foreign ``Origin``, and a DNS-rebound name
    reaches loopback with a foreign ``Host``.  Both are refused; curl, httpx and the tests send
    a loopback ``Host`` and no ``Origin``."""
    if host is not None and not is_loopback(urlsplit(f"//{host}").hostname or ""):
        raise refused(403, "dev mode answers only requests addressed to loopback")
    if origin is not None and not is_loopback(urlsplit(origin).hostname or ""):
        raise refused(403, "dev mode refuses requests from web pages that are not on loopback")


def check_role(who: Principal, needed: Role | None, method: str, route: str) -> None:
    """Let ``who`` call ``method route`` (the route's path template, never the raw path: a
    callback's token, an id) if its role is ``needed`` or higher; else a 403 that names both
    roles and the client, never its token, logged as a WARNING with named fields (a token used
    beyond its role is a misconfigured client, or one that tries)."""
    if needed is None or who.role >= needed:
        return
    log.warning("refused %s %s to client %s: it needs the role %s, the client has %s", method,
                route, who.name, needed, who.role,
                extra=fields(event="role_refused", principal=who.name, role=str(who.role),
                             needed=str(needed), route=f"{method} {route}"))  # fmt: skip
    raise refused(
        403,
        f"{method} {route} needs an API token with the role {needed} (or higher); the client "
        f"{who.name} has the role {who.role}",
    )


def refused(status: int, message: str) -> ApiError:
    """A 401 ``unauthorized`` or 403 ``forbidden`` of the token check, with ``Connection:
    close``: it is answered before the request's body is read (see
    :mod:`om_dsl.service.token_first`), and a body left unread must not be taken for the next
    request on the connection; a client without a valid token has no use for it anyway."""
    code = "unauthorized" if status == 401 else "forbidden"
    return ApiError(status, code, message, headers={"Connection": "close"})


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
