"""Credentials of downstream systems: read from the environment at call time, never kept.

The catalog names environment variables (``auth bearer env("BILLING_TOKEN")``); their values
are read for each request, so a rotated secret applies at once, and they never reach the IR,
the store, the event log or an error message.  A missing variable is a permanent failure that
names the variable (never a value).  :attr:`Credentials.secrets` lists every value that a
request carries (for basic auth the user, the password and their base64 pair too), so that
:mod:`~om_dsl.runtime.downstream.redaction` can hide each of them, in every form, wherever a
downstream system echoes them back.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from om_dsl.ir import models as ir


class MissingSecret(Exception):
    """The environment variable that holds a credential is not set (or empty)."""

    def __init__(self, system: str, variable: str) -> None:
        self.variable = variable
        super().__init__(
            f"system {system} needs the environment variable {variable} for its credentials, "
            "and it is not set"
        )


@dataclass(frozen=True, slots=True)
class Credentials:
    """The auth header of one request, and the secret values to redact wherever text goes."""

    headers: dict[str, str]
    secrets: tuple[str, ...]


NO_CREDENTIALS = Credentials({}, ())


def credentials(system: ir.System, environ: Mapping[str, str]) -> Credentials:
    """The header that ``system.auth`` asks for, with values read from ``environ`` now.

    Raises:
        MissingSecret: a variable named by the catalog is not set.
    """
    auth = system.auth
    if auth is None:
        return NO_CREDENTIALS
    values = [_value(system.name, name, environ) for name in auth.env]
    if auth.scheme == "bearer":
        return Credentials({"Authorization": f"Bearer {values[0]}"}, (values[0],))
    if auth.scheme == "basic":
        pair = base64.b64encode(f"{values[0]}:{values[1]}".encode()).decode("ascii")
        return Credentials({"Authorization": f"Basic {pair}"}, (*values, pair))
    header = auth.header or "Authorization"
    return Credentials({header: values[0]}, (values[0],))


def _value(system: str, name: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name)
    if not value:
        raise MissingSecret(system, name)
    return value


def catalog_secrets(catalog: ir.Catalog, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The credential values of every system of the catalog that are set now: what any text
    from outside (an answer, a callback, a host handler's exception) must not keep.

    Every system, not only the one called: a system may pass on another's token (a callback
    reason quoting a Billing token), and a host's handler may hold any of them.
    """
    found: dict[str, None] = {}
    for system in catalog.systems:
        with contextlib.suppress(MissingSecret):
            found.update(dict.fromkeys(credentials(system, environ).secrets))
    return tuple(found)
