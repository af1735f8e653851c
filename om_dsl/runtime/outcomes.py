"""What starting (or resuming) an item can lead to: the only vocabulary kinds speak.

An item kind never changes states itself: it returns one of these, and the runtime applies it
through the checked transition table.  That is what lets ``callout`` and ``manual`` plug in
without any change to the scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from om_dsl.oneline import one_line, shorten


@dataclass(frozen=True, slots=True)
class Completed:
    """The item is done; ``outputs`` are readable by later items as ``name.key``."""

    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Waiting:
    """The item started, and something outside will finish it.

    Attributes:
        reason: what it waits for, shown in status (e.g. "in queue field_techs").
        deadline: epoch seconds after which it times out (its retry policy then applies); the
            item's ``timeout`` applies too, whichever is earlier.
        event: a named event (``runtime.signal(event, ...)``) that completes it.
        token: an unguessable single-use token (``runtime.resolve_token``); only its hash is
            stored.
        key: any other lookup key (e.g. ``queue:field_techs`` for manual work lists).
        poll: ask the kind's ``poll`` again whenever outputs of the order change.
        expect_soon: ``run(until_idle=True)`` keeps running while this item waits (e.g. an
            asynchronous callout whose callback arrives within seconds).
    """

    reason: str
    deadline: float | None = None
    event: str | None = None
    token: str | None = None
    key: str | None = None
    poll: bool = False
    expect_soon: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """The attempt failed; unless ``permanent``, the item's retry policy decides what's next.

    ``unsure``: the attempt may have taken effect all the same (no answer within the timeout,
    a connection lost after the request was sent, an accepted async request that never called
    back).  A cancel or an amendment must not take such an item for one that did nothing: its
    ``undo`` may be needed (see docs/runtime.md, "Unknown outcomes").

    ``definite``: the system answered that the operation failed (an error status, a callback
    reporting a failure).  It is over, so the next attempt is a new operation and is sent
    under a new idempotency key: a system that keeps its answer under the key would otherwise
    give every retry the same failure (see :meth:`Engine.fail`).
    """

    reason: str
    permanent: bool = False
    unsure: bool = False
    definite: bool = False


@dataclass(frozen=True, slots=True)
class OnHold:
    """The item cannot start now (e.g. its system is offline); ``release(key)`` readies it."""

    reason: str
    key: str | None = None


Outcome = Completed | Waiting | Failed | OnHold


REASON_CHARS = 2000
"""The longest reason kept from an exception of code that is not the runtime's own (a host's
handler or kind): the store, the event log and every view show it."""


def kept_reason(text: str) -> str:
    """Text of code that is not the runtime's own (a host's handler or kind, its exception
    above all) made fit to keep as an item's reason: one line (:func:`om_dsl.oneline.one_line`:
    a ``\n`` in a handler's message began a forged line in `om events`, `om status` and the
    fallout log line) and at most :data:`REASON_CHARS` characters.  Redact it first where it
    may hold a credential (:func:`om_dsl.runtime.downstream.redaction.redact`)."""
    return shorten(one_line(text), REASON_CHARS)


def message_of(exc: BaseException) -> str:
    """``str(exc)``, which a host's exception may itself fail at (its ``__str__`` raising):
    the failure's own text is not used then, since it could say anything, at any length."""
    try:
        return str(exc)
    except Exception:
        return "(its message could not be read)"


def raised(exc: BaseException) -> str:
    """``Type: message`` of an exception, read with :func:`message_of`."""
    return f"{type(exc).__name__}: {message_of(exc)}"
