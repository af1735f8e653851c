"""Bearer-token authentication for the API.

Each client has a name and a token (``ServiceConfig.tokens``).  Only SHA-256 digests of the
tokens are kept in memory after start, and a presented token is compared with every one of
them in constant time, so neither timing nor a memory dump of the app gives a token away.
The client's name is the *principal*: it is who claims a manual task or takes a system offline
when the request does not name a person.

Without tokens the service runs in dev mode: it binds loopback only (``ServiceConfig.check``)
and, in case it sits behind a proxy, also refuses clients that are not on loopback, requests
addressed to another host name (DNS rebinding) and requests from web pages elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from om_dsl.service.config import is_loopback
from om_dsl.service.errors import ApiError

DEV_PRINCIPAL = "dev"
bearer = HTTPBearer(auto_error=False, description="An API token from OM_TOKENS.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the name the token is registered under (``dev`` in dev mode)."""

    name: str


class TokenCheck:
    """Tells who a request comes from, or raises a 401/403 :class:`ApiError`."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._digests = [(name, _digest(token)) for name, token in tokens.items()]

    @property
    def dev_mode(self) -> bool:
        return not self._digests

    def principal(
        self,
        credentials: HTTPAuthorizationCredentials | None,
        client: str,
        host: str | None = None,
        origin: str | None = None,
    ) -> Principal:
        """``host`` and ``origin`` are the request's headers (checked in dev mode only)."""
        if self.dev_mode:
            if not is_loopback(client):
                raise refused(403, "dev mode (no API tokens) serves loopback only")
            _check_browser_reach(host, origin)
            return Principal(DEV_PRINCIPAL)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise refused(401, "an API token is required (Authorization: Bearer)")
        name = self._match(credentials.credentials)
        if name is None:
            raise refused(401, "the API token is not valid")
        return Principal(name)

    def _match(self, token: str) -> str | None:
        presented = _digest(token)
        found: str | None = None
        for name, digest in self._digests:  # no early exit: every check costs the same
            if hmac.compare_digest(presented, digest):
                found = name
        return found


def _check_browser_reach(host: str | None, origin: str | None) -> None:
    """In dev mode nothing is asked of the caller, so a web page the developer has open could
    drive the API: a cross-site request carries a foreign ``Origin``, and a DNS-rebound name
    reaches loopback with a foreign ``Host``.  Both are refused; curl, httpx and the tests send
    a loopback ``Host`` and no ``Origin``."""
    if host is not None and not is_loopback(urlsplit(f"//{host}").hostname or ""):
        raise refused(403, "dev mode answers only requests addressed to loopback")
    if origin is not None and not is_loopback(urlsplit(origin).hostname or ""):
        raise refused(403, "dev mode refuses requests from web pages that are not on loopback")


def refused(status: int, message: str) -> ApiError:
    """A 401 ``unauthorized`` or 403 ``forbidden`` of the token check, with ``Connection:
    close``: it is answered before the request's body is read (see
    :mod:`om_dsl.service.token_first`), and a body left unread must not be taken for the next
    request on the connection; a client without a valid token has no use for it anyway."""
    code = "unauthorized" if status == 401 else "forbidden"
    return ApiError(status, code, message, headers={"Connection": "close"})


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
