"""How the HTTP service is set up: where it listens, who may call it, how much it accepts.

Settings come from the ``om serve`` options or from the environment (the same names, see
:data:`ENV`), so a container can be configured without a command line.  API tokens are never
taken from the command line (a process list would show them): only from ``OM_TOKENS`` or a
file named by ``OM_TOKENS_FILE`` / ``--tokens-file``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from om_dsl.logfields import fields
from om_dsl.orders.installed_base import InstalledBase
from om_dsl.service.roles import DEFAULT_ROLE, DEV_ROLE, ROLE_NAMES, Role, parse_role

log = logging.getLogger("om_dsl.service")

MIB = 1024 * 1024
MIN_TOKEN_CHARS = 16
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")

ENV = {
    "catalog": "OM_CATALOG",
    "db": "OM_DB",
    "host": "OM_HOST",
    "port": "OM_PORT",
    "tokens": "OM_TOKENS",
    "tokens_file": "OM_TOKENS_FILE",
    "public_url": "OM_PUBLIC_URL",
    "max_body_bytes": "OM_MAX_BODY_BYTES",
    "max_connections": "OM_MAX_CONNECTIONS",
    "client_timeout_s": "OM_CLIENT_TIMEOUT",
    "handlers": "OM_HANDLERS",
    "concurrency": "OM_CONCURRENCY",
    "notify": "OM_NOTIFY",
    "notify_attempts": "OM_NOTIFY_ATTEMPTS",
    "access_log": "OM_ACCESS_LOG",
    "installed_base": "OM_INSTALLED_BASE",
}
"""Setting -> environment variable (``om serve`` reads the same ones)."""


@dataclass(frozen=True)
class ServiceConfig:
    """The service's settings.

    Attributes:
        host: the address to listen on; without tokens only a loopback address is allowed.
        port: the port (0 = a free one, for tests).
        tokens: client name -> bearer token.  Empty means *dev mode*: no authentication, and
            only loopback clients and addresses (said loudly at start).
        public_url: the URL clients reach the service at (``href`` of orders, and the base of
            async callouts' callback URLs); ``http://host:port`` when not set.
        max_body_bytes: the largest request body accepted (413 beyond it).
        max_connections: open connections past which a request gets a 503 ``serviceBusy`` at
            once, rather than everything slowing down until nothing answers.
        client_timeout_s: seconds a client has to send its request's headers, and may pause
            while sending its body, before its connection is closed
            (:mod:`om_dsl.service.slow_clients`).
        max_page: the largest ``limit`` of a list request.
        default_page: the ``limit`` of a list request that gives none.
        start_runtime: start the runtime's loop with the app, stop it at shutdown (an embedder
            that runs the loop itself passes False).
        installed_base: what accounts have before an order (see
            :mod:`om_dsl.orders.installed_base`); new orders and amendments are decomposed
            with it.  None: nothing is installed.
        roles: client name -> its role (:mod:`om_dsl.service.roles`); a client not named
            here is an ``operator``, as every client was before roles existed.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    public_url: str | None = None
    max_body_bytes: int = MIB
    max_connections: int = 1000
    client_timeout_s: float = 30.0
    max_page: int = 1000
    default_page: int = 100
    start_runtime: bool = True
    installed_base: InstalledBase | None = field(default=None, repr=False)
    roles: Mapping[str, Role | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Roles given by name (``{"grafana": "read"}``) become :class:`Role` s.

        Raises:
            ValueError: a name that is no role.
        """
        named = {name: _role(role, name) for name, role in self.roles.items()}
        object.__setattr__(self, "roles", named)

    @property
    def dev_mode(self) -> bool:
        return not self.tokens

    def role_of(self, name: str) -> Role:
        """The role of the client ``name`` (dev mode's: everything)."""
        return DEV_ROLE if self.dev_mode else _role(self.roles.get(name, DEFAULT_ROLE), name)

    def clients_text(self) -> str:
        """The clients with their roles, for the banner and the log: ``crm (client), ops
        (operator)`` (names only: tokens are never shown)."""
        return ", ".join(f"{name} ({self.role_of(name)})" for name in sorted(self.tokens))

    def check(self) -> None:
        """Raises ValueError for settings that must not run (e.g. open to the network
        without tokens)."""
        if self.dev_mode and not is_loopback(self.host):
            raise ValueError(
                f"refusing to listen on {self.host} without API tokens: set OM_TOKENS "
                "(or --tokens-file), or listen on 127.0.0.1"
            )
        unknown = sorted(set(self.roles) - set(self.tokens))
        if unknown:
            raise ValueError(f"roles are given for clients without a token: {', '.join(unknown)}")
        if self.max_body_bytes < 1024:
            raise ValueError("the body limit must be at least 1024 bytes")
        if self.max_connections < 1:
            raise ValueError(f"{ENV['max_connections']} must be at least 1")
        if not self.client_timeout_s > 0:
            raise ValueError(f"{ENV['client_timeout_s']} must be more than 0 seconds")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")
        if self.public_url:
            check_public_url(self.public_url)

    def base_url(self, port: int | None = None) -> str:
        """Where clients (and callbacks) reach the service."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port if port is not None else self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServiceConfig:
        """Settings from environment variables (:data:`ENV`); unset ones keep their defaults.

        The warnings ``om serve`` prints about token entries (:attr:`Clients.warnings`) are
        logged here, as WARNINGs of ``om_dsl.service``: an embedder reading the same variables
        would otherwise never learn that a client got the default role by mistake.

        Raises:
            ValueError: a value cannot be read (the message names the variable).
        """
        clients = read_clients(environ.get(ENV["tokens"]), environ.get(ENV["tokens_file"]))
        for warning in clients.warnings:  # never holds a token (see _role_in_token)
            log.warning("%s", warning, extra=fields(event="token_entry"))
        values: dict[str, object] = {"tokens": clients.tokens, "roles": clients.roles}
        for name in ("host", "public_url"):
            if environ.get(ENV[name]):
                values[name] = environ[ENV[name]]
        for name in ("port", "max_body_bytes", "max_connections"):
            if environ.get(ENV[name]):
                values[name] = _int(environ[ENV[name]], ENV[name])
        if environ.get(ENV["client_timeout_s"]):
            values["client_timeout_s"] = _seconds(environ[ENV["client_timeout_s"]])
        return cls(**values)  # type: ignore[arg-type]


def _role(role: Role | str, name: str) -> Role:
    return role if isinstance(role, Role) else parse_role(role, f"ServiceConfig.roles[{name!r}]")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_public_url(url: str) -> None:
    """The public URL becomes the ``href`` of orders and the base of every ``X-Callback-Url``
    sent downstream, and it is printed at start: a typo must stop the service, and credentials
    in it would be sent to every system and shown in the banner.

    Raises:
        ValueError: not an http(s) URL with a host, or it has user info, a query or a fragment.
            The message never repeats the URL (it may hold a password).
    """
    what = f"{ENV['public_url']} / --public-url"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError(f"{what} is not a valid URL: use e.g. https://om.example.com")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"{what} must be an http(s) URL with a host, e.g. https://om.example.com")
    if "@" in parts.netloc:
        raise ValueError(f"{what} must not carry credentials (user:password@)")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(f"{what} must not have a query or a fragment")


@dataclass(frozen=True)
class Clients:
    """The API clients of ``OM_TOKENS`` and the tokens file (:func:`read_clients`).

    Attributes:
        tokens: client name -> bearer token (``ServiceConfig.tokens``).
        roles: client name -> role, for the entries that give one (``ServiceConfig.roles``);
            the others are :data:`~om_dsl.service.roles.DEFAULT_ROLE`.
        warnings: entries that are valid but probably not what was meant, one line each
            (``om serve`` says them at start): a token that ends with ``:<role>``.
    """

    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    roles: dict[str, Role] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_clients(text: str | None, path: str | Path | None = None) -> Clients:
    """Clients from ``name:token`` or ``name/role:token`` entries: in ``text`` (``OM_TOKENS``)
    separated by commas or new lines, and/or in the file at ``path``, one a line (``#``
    starts a comment).

    Every token needs its client's name: the name is who the store records when the client
    claims a task or takes a system offline, so it is never made up from an entry's position.
    The role goes with the name, before the first ``:``, after a ``/`` that no name may hold:
    every entry valid before roles existed reads as it did, and a token (which may hold
    ``:``, ``/`` or ``@``) is never cut to find a role.

    Raises:
        ValueError: an entry is malformed (no name, a bad name, an unknown role, a name given
            twice), two names share a token, a name is a token, a token is too short to be a
            secret, or the file cannot be read.  The message says where the entry is and
            never shows a token.
    """
    clients = Clients()
    owners: dict[str, str] = {}
    for where, entry in _entries(text, path):
        name, role, token = _entry(entry, where)
        _check_unique(clients.tokens, owners, name, token, where)
        clients.tokens[name] = token
        owners[token] = name
        if role is not None:
            clients.roles[name] = role
        elif warning := _role_in_token(where, name, token):
            clients.warnings.append(warning)
    return clients


def _role_in_token(where: str, name: str, token: str) -> str | None:
    """A warning for a token that ends with ``:<role>`` in an entry that gives no role.

    ``crm:<token>:client`` reads, as before roles existed, as the token ``<token>:client`` with
    the default role: the client then gets 401s with its real token, and nothing says why.  A
    token may hold ``:`` (and end with such a word), so it is a warning, not a refusal.  The
    message names the entry and the role word, never the token.
    """
    _, colon, last = token.rpartition(":")
    word = last.strip().lower()
    if not colon or word not in ROLE_NAMES:
        return None
    return (
        f"{where} (client {name}): the token ends with ':{last}', which is read as part of the "
        f"token, and {name} gets the default role ({DEFAULT_ROLE}); to give {name} the role "
        f"{word}, write {name}/{word}:<token>"
    )


def read_tokens(text: str | None, path: str | Path | None = None) -> dict[str, str]:
    """The tokens of :func:`read_clients`, for code written before roles existed.

    Raises:
        ValueError: as :func:`read_clients`, and when an entry gives a role: dropping it
            would let that client do more than it was given (use :func:`read_clients`).
    """
    clients = read_clients(text, path)
    if clients.roles:
        raise ValueError(
            f"the tokens give roles ({', '.join(sorted(clients.roles))}): read them with "
            "om_dsl.service.read_clients, and pass ServiceConfig(tokens=..., roles=...)"
        )
    return clients.tokens


def _check_unique(
    tokens: Mapping[str, str], owners: Mapping[str, str], name: str, token: str, where: str
) -> None:
    """A name given once, a token owned by one name, and no name that is a token."""
    if name in tokens:
        raise ValueError(f"{where}: the client name '{name}' is given twice")
    if token in owners:  # every action of one would be recorded as the other's
        raise ValueError(f"{where}: client '{name}' has the token of '{owners[token]}'")
    if token in tokens or name in owners or name == token:  # name and token swapped?
        raise ValueError(
            f"{where}: a client name is also a token; write name:token (the name is "
            "shown and recorded, the token never)"
        )


def _entries(text: str | None, path: str | Path | None) -> list[tuple[str, str]]:
    """(where, entry) for every entry that is not blank or a comment."""
    found: list[tuple[str, str]] = []
    if path:
        lines = _lines(path)
        found += [(f"{path} line {n}", line) for n, line in enumerate(lines, 1)]
    if text:
        parts = text.replace("\n", ",").split(",")
        found += [(f"{ENV['tokens']} entry {n}", part) for n, part in enumerate(parts, 1)]
    return [(where, e.strip()) for where, e in found if e.strip() and not e.strip().startswith("#")]


def _lines(path: str | Path) -> list[str]:
    """The tokens file's lines; its content never appears in an error (it holds secrets)."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read the tokens file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read the tokens file {path}: not UTF-8 text") from None


def _entry(entry: str, where: str) -> tuple[str, Role | None, str]:
    """(name, role or None, token) of ``name:token`` or ``name/role:token``."""
    head, sep, token = (part.strip() for part in entry.partition(":"))
    if not sep:
        raise ValueError(
            f"{where} has no client name: write it as name:token (e.g. crm:<token>); the name "
            "is who the service records for every action the client takes"
        )
    name, slash, role_text = (part.strip() for part in head.partition("/"))
    if not _NAME.fullmatch(name):
        raise ValueError(f"{where}: the client name must be 1-64 of A-Z a-z 0-9 _ . @ -")
    role = parse_role(role_text, f"{where} (client {name})") if slash else None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ValueError(
            f"{where}: the token of {name} is too short (at least {MIN_TOKEN_CHARS} characters, "
            "no blanks): use e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return name, role, token


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"{ENV['client_timeout_s']} must be a number of seconds, not '{text}'"
        ) from None


def _int(text: str, variable: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{variable} must be an integer, not '{text}'") from None
