"""Signed notifications: a listener can tell that an event comes from this runtime, unchanged.

Listener URLs are often reachable by anyone (a CRM's webhook), so without a signature anyone
could post a forged "order completed".  With a secret configured (by the name of the
environment variable that holds it, never the secret itself: it stays out of settings, logs
and the store), every delivery carries::

    X-Om-Signature: t=1764316800,v1=<hex HMAC-SHA256(secret, "1764316800." + body)>

``t`` is when the delivery was sent (Unix seconds), so a captured notification cannot be
replayed later: :func:`verify` refuses one older than its tolerance.  Each retry is signed
again, with its own ``t``.  The scheme is the widely used one of Stripe's webhooks, so
listeners may already have code for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from typing import Final

from om_dsl.errors import OmError

SIGNATURE_HEADER: Final = "X-Om-Signature"
DEFAULT_TOLERANCE_S: Final = 300


class SigningError(OmError, ValueError):
    """The secret cannot be read, or a signature does not verify.

    An :class:`OmError` (``Runtime(...)`` raises it for a secret variable that is not set, and
    a host catches OmError); still a ``ValueError``, as it was, for listeners that catch that.
    """


def secret_from(env_name: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The signing secret held in the environment variable ``env_name``.

    Raises:
        SigningError: the variable is not set or empty (at start-up: unsigned deliveries
            would be refused by every listener that checks).
    """
    value = (os.environ if environ is None else environ).get(env_name, "")
    if not value:
        raise SigningError(f"the notification signing secret ${env_name} is not set")
    return value.encode()


def sign(secret: bytes, body: bytes, at: float | None = None) -> str:
    """The :data:`SIGNATURE_HEADER` value for ``body`` sent at ``at`` (now by default)."""
    stamp = int(time.time() if at is None else at)
    return f"t={stamp},v1={_digest(secret, stamp, body)}"


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Check a received notification (for listeners written in Python).

    Raises:
        SigningError: the header is malformed, the signature does not match the body, or
            it was made more than ``tolerance_s`` seconds from ``now``.
    """
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp_text, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp_text.isdigit() or not given:
        raise SigningError(f"malformed {SIGNATURE_HEADER} header")
    stamp = int(stamp_text)
    if not hmac.compare_digest(_digest(secret, stamp, body), given):
        raise SigningError("the signature does not match the body")
    if abs((time.time() if now is None else now) - stamp) > tolerance_s:
        raise SigningError(f"the signature is more than {tolerance_s} s old")


def _digest(secret: bytes, stamp: int, body: bytes) -> str:
    return hmac.new(secret, str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
