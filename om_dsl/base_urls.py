"""The one check of a system's base URL, shared by the compiler and the runtime.

The compiler checks a catalog's ``url "..."`` (and an ``env()`` default) with it, the runtime
the URL it is about to call (the catalog's, or the environment variable's): a URL the compiler
accepts is one every callout can use.  It lives outside ``om_dsl.runtime`` so that ``om check``
does not load the runtime (or its HTTP client).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit


class BaseUrlError(ValueError):
    """Why a URL cannot be a system's base URL: the message follows the URL's description
    (``"'ftp://h' " + message``), and never repeats the URL or a credential in it."""


class CredentialsInUrl(BaseUrlError):
    """A URL that carries a user or a password (secrets come from the environment)."""


def checked_base_url(url: str) -> str:
    """``url`` as a base URL: scheme, host and path, without a trailing ``/``, query or fragment.

    Raises:
        BaseUrlError: spaces or control characters in it (``urlsplit`` would silently drop
            some), not a URL (``http://[::1``), not http(s) or no host, a port that is not a
            number from 1 to 65535; :class:`CredentialsInUrl` for a user or password.
    """
    if has_blanks(url):
        raise BaseUrlError("contains a space or a control character")
    try:
        parts = urlsplit(url)
    except ValueError:  # `http://[::1`: an unclosed IPv6 address; `http://[x]`
        raise BaseUrlError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BaseUrlError("is not an http(s) URL")
    if not port_ok(url):
        raise BaseUrlError("has a port that is not a number from 1 to 65535")
    if parts.username or parts.password:
        raise CredentialsInUrl("carries credentials")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def dot_segment(path: str) -> str | None:
    """The first ``.`` or ``..`` segment of a callout path as the catalog writes it (``%2e``
    counts as a dot), or None.

    An HTTP client removes such segments before it sends the request, so ``"/../admin"`` on a
    system at ``http://h/api/v1`` calls ``http://h/admin`` with the system's credentials: the
    compiler (E099) and the IR loader refuse them.  A ``{placeholder}`` stands for a value,
    percent-encoded whole at run time (which refuses a value that is ``.`` or ``..``), so it
    counts as a character here: ``"/{name}.{ext}"`` is fine.  The query and fragment are not
    path."""
    written = re.split(r"[?#]", path, maxsplit=1)[0]
    for segment in written.split("/"):
        if unquote(_PLACEHOLDER.sub("x", segment)) in (".", ".."):
            return segment
    return None


def has_blanks(url: str) -> bool:
    """Whether ``url`` holds a space or a control character (``urlsplit`` silently drops
    some; a URL may carry neither)."""
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)


def port_ok(url: str) -> bool:
    """The URL names no port, or one a connection can be made to (1-65535).  ``urlsplit``
    raises for ``:99999`` or ``:-1`` only when the port is read, and httpx accepts both; the
    connection then failed deep inside the HTTP client with an exception nobody expected."""
    try:
        port = urlsplit(url).port
    except ValueError:
        return False
    return port is None or 1 <= port <= 65535
