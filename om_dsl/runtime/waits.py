"""Wait keys: how a waiting or held item is found again by whatever will move it.

``event:<name>`` (``runtime.signal``), ``token:<sha256>`` (``runtime.resolve_token``: only the
hash of a callback token is stored, so the store never holds a usable token), ``poll`` (asked
again when outputs change), ``hold:<key>`` (``runtime.release``), or a kind's own key (e.g.
``queue:field_techs``).

``unsure`` marks an item (failed, or ready for a retry or a replay) whose last attempt ended
without a known outcome: the request may have taken effect.  It is kept in the wait key, the
column that says how an unfinished item is found again, because that is what it is for: a
cancel or an amendment finds such an item to settle it before it decides its ``undo``.
"""

from __future__ import annotations

import hashlib

from om_dsl.runtime.outcomes import Waiting
from om_dsl.runtime.states import ItemState

UNSURE = "unsure"
"""The wait key of an item whose last attempt has an unknown outcome (see above)."""
TOKEN_PREFIX = "token:"
RESOLVE_UNSURE = (
    "its outcome is unknown (the request may have taken effect), so its undo cannot be "
    "decided: retry it (the request is sent again under its idempotency key, and a system "
    "that did the work answers with its result), complete it with its outputs if it took "
    "effect, or skip it if it did not"
)
"""The reason of an item in fallout whose outcome a cancel or an amendment must know."""


def unsure_reason(reason: str | None) -> str:
    """``reason`` with :data:`RESOLVE_UNSURE` added (once)."""
    if reason is None:
        return RESOLVE_UNSURE
    return reason if RESOLVE_UNSURE in reason else f"{reason}; {RESOLVE_UNSURE}"


def token_key(token: str) -> str:
    return TOKEN_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


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


def awaits_callback(key: str | None) -> bool:
    """The item waits for a callback token: its system accepted the request (an async
    callout's 202), so the work is under way downstream."""
    return key is not None and key.startswith(TOKEN_PREFIX)


def under_way(state: str, key: str | None) -> bool:
    """Running, or waiting for the callback of an accepted async request: either may end
    completed, so a cancel or an amendment cannot know yet whether there is work to undo."""
    return state == ItemState.RUNNING or (state == ItemState.WAITING and awaits_callback(key))
