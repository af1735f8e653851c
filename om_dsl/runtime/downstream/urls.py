"""URLs that leave the runtime: callout targets, listener URLs, and how they are shown.

A callout can only reach the system the catalog declares: the base URL is the system's (or the
environment variable the catalog names), the path is the item's, and every value inserted into
the path is percent-encoded whole, so ``{line.x}`` can add neither a path segment, nor a query,
nor a host.  The assembled URL is checked against the base once more before it is used.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from om_dsl.base_urls import BaseUrlError, CredentialsInUrl, checked_base_url, has_blanks, port_ok
from om_dsl.ir import models as ir

MAX_URL_LENGTH = 2048
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
     "instance-data.ec2.internal"}
)  # fmt: skip
"""Host names of cloud metadata services (which hand out credentials)."""
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200")
)
"""Metadata services outside the link-local ranges (AWS over IPv6, Alibaba Cloud)."""
_NUMERIC_HOST = frozenset("0123456789abcdefx.")


class UrlError(Exception):
    """A URL that must not be used (the message never contains a credential)."""


def base_url(system: ir.System, environ: Mapping[str, str]) -> str:
    """The system's base URL: its environment variable when set, else the catalog's default.

    Raises:
        UrlError: no URL, or one :func:`om_dsl.base_urls.checked_base_url` refuses.
    """
    source = f"the catalog's url of system {system.name}"
    url = system.base_url
    if system.url_env and environ.get(system.url_env):
        # blanks around an environment value (`$(cat file)`'s newline, a .env file's trailing
        # space) are not part of the URL; within it they are refused, as in the catalog
        url, source = environ[system.url_env].strip(), f"environment variable {system.url_env}"
    if not url:
        raise UrlError(
            f"system {system.name} has no URL: set the environment variable {system.url_env}"
        )
    try:
        return checked_base_url(url)  # the compiler's check of the catalog's url too
    except CredentialsInUrl as exc:
        raise UrlError(f"{source} {exc}; use the system's auth instead") from None
    except BaseUrlError as exc:
        raise UrlError(f"{source} {exc}") from None


def path_text(value: Any) -> str:
    """One placeholder value as path text, percent-encoded whole (``/``, ``?``, ``@`` too)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return quote(str(value), safe="")


def join(base: str, path: str) -> str:
    """``base`` + ``path``, refused unless the result still points at the base's origin and
    below its path.

    The path is compared segment by segment, and a rendered ``.`` or ``..`` segment is refused:
    an HTTP client removes those before it sends, so ``/api/v1/../../admin`` passed a prefix
    test and called ``/admin`` with the system's credentials.  The compiler refuses such a
    literal (E099) and a placeholder whose value is one, but a placeholder next to a dot
    (``"/{x}."`` with ``x`` = ``.``) renders one too; and ``/api/v1x`` passed the prefix test
    of ``/api/v1``."""
    url = base + path
    wanted, got = urlsplit(base), urlsplit(url)
    same = (got.scheme, got.netloc) == (wanted.scheme, wanted.netloc)
    if not same or not _below(got.path, wanted.path):
        raise UrlError(f"the path {shown(path)} would leave the system's base URL")
    return url


def _below(path: str, base_path: str) -> bool:
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        return False
    root = base_path.rstrip("/")
    return path == root or path.startswith(root + "/")


def shown(url: str) -> str:
    """A URL as it may appear in logs and reasons: no user info, no query, no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    netloc = parts.hostname or ""
    if not port_ok(url):
        return "(an invalid URL)"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    query = "?..." if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) + query


def check_listener_url(url: object) -> str:
    """A listener URL given by a user (an order's ``notify``, a hub registration).

    Raises:
        ValueError: not a string, too long, not http(s), no host, control characters,
            credentials in it (they would end up in the store), or a host events must not go
            to (:func:`forbidden_host`).
    """
    if not isinstance(url, str) or not url:
        raise ValueError("a listener URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"a listener URL may have at most {MAX_URL_LENGTH} characters")
    if has_blanks(url):
        raise ValueError("a listener URL must not contain spaces or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ValueError(f"{shown(url)} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("a listener URL must be an http(s) URL with a host")
    if not port_ok(url):
        raise ValueError("a listener URL's port must be a number from 1 to 65535")
    if parsed.userinfo:
        raise ValueError("a listener URL must not carry credentials")
    problem = forbidden_host(parsed.host)
    if problem:
        raise ValueError(f"a listener URL must not point at {problem}")
    return url


def forbidden_host(host: str) -> str | None:
    """Why events must not be sent to ``host``, or None.

    Listener URLs come from API clients, and the runtime POSTs order data to them from inside
    the network, so a link-local address (where cloud metadata services hand out credentials),
    a known metadata service, or an unspecified address is refused, in any spelling of the
    address (``2852039166`` is 169.254.169.254 to the resolver).  Loopback and private
    addresses stay allowed: listeners next to the service are normal.  Names are not resolved
    here (DNS can change after the check): :mod:`om_dsl.runtime.downstream.egress` checks the
    addresses a name resolves to at each connection, with this function.
    """
    name = unquote(host).strip("[]").rstrip(".").lower()  # `%31%36%39.254.169.254` too
    if name in METADATA_NAMES:
        return "a cloud metadata service"
    address = _address(name)
    if address is None:
        return None
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    if any(a.is_link_local or a in METADATA_ADDRESSES for a in [address, *embedded]):
        return "a link-local or cloud metadata address"
    if address.is_unspecified or (len(embedded) == 1 and embedded[0].is_unspecified):
        return "an unspecified address"
    return None


_LAST_32 = (
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, well-known prefix (RFC 6052)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765)
    ipaddress.ip_network("::/96"),  # IPv4-compatible (RFC 4291, deprecated): ::169.254.169.254
)
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
"""NAT64 for local use (RFC 8215): a network picks its own prefix inside it, of any length
RFC 6052 allows, so the IPv4 address may sit at any of their positions."""
_RFC6052_PREFIXES = (96, 64, 56, 48)
"""The prefix lengths RFC 6052 allows that fit in :data:`_LOCAL_NAT64`."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one may stand for (mapped, translated, compatible, NAT64,
    6to4 and Teredo forms), the most direct first: a host with the matching tunnel or
    translator sends there whatever is sent to it."""
    if address.ipv4_mapped:
        return [address.ipv4_mapped]
    if any(address in net for net in _LAST_32):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address in _LOCAL_NAT64:
        return [_rfc6052(int(address), prefix) for prefix in _RFC6052_PREFIXES]
    if address.sixtofour:  # 2002::/16 (RFC 3056)
        return [address.sixtofour]
    if address.teredo:  # 2001::/32 (RFC 4380): its server and its client
        return list(address.teredo)
    return []


def _rfc6052(value: int, prefix: int) -> ipaddress.IPv4Address:
    """The IPv4 address RFC 6052 puts after a NAT64 prefix of ``prefix`` bits: the last 32
    bits for /96; otherwise the bits from the prefix to bit 63, then (past the "u" octet,
    bits 64-71) the rest from bit 72 on."""
    if prefix == 96:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    head_bits = 64 - prefix
    tail_bits = 32 - head_bits
    head = (value >> 64) & ((1 << head_bits) - 1)
    tail = (value >> (56 - tail_bits)) & ((1 << tail_bits) - 1)
    return ipaddress.IPv4Address(head << tail_bits | tail)


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host names literally, in the forms the system resolver accepts too."""
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if not name or not set(name) <= _NUMERIC_HOST:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))  # 2852039166, 0xa9.0xfe.0xa9.0xfe
    except OSError:
        return None
