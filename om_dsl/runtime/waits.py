"""Wait keys: how a waiting or held item is found again by whatever will move it.

``event:<name>`` (``runtime.signal``), ``token:<sha256>`` (``runtime.resolve_token``: only the
hash of a callback token is stored, so the store never holds a usable token), ``poll`` (asked
again when outputs change), ``hold:<key>`` (``runtime.release``), or a kind's own key (e.g.
``queue:field_techs``).
"""

from __future__ import annotations

import hashlib

from om_dsl.runtime.outcomes import Waiting


def token_key(token: str) -> str:
    return "token:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def event_key(event: str) -> str:
    return "event:" + event


def hold_key(key: str | None) -> str:
    return f"hold:{key}" if key else "hold"


def wait_key(waiting: Waiting) -> str | None:
    if waiting.token is not None:
        return token_key(waiting.token)
    if waiting.event is not None:
        return event_key(waiting.event)
    if waiting.key is not None:
        return waiting.key
    return "poll" if waiting.poll else None
