"""How TMF resources write times, links and their ``@type``: shared by the order views
(:mod:`.tmf`) and the cancel requests (:mod:`.cancels`), so that both read alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from om_dsl.runtime.downstream.urls import path_text


def href(base: str, ident: str) -> str:
    """``<base>/<ident>``, the id percent-encoded whole (``/``, ``?``, ``%``, blanks too): an id
    is data, and must neither add a path segment nor start a query."""
    return f"{base}/{path_text(ident)}"


def event_id(seq: int, epoch: str, suffix: str = "") -> str:
    """The ``eventId`` of the event the event-log row ``seq`` makes: ``om-<seq>`` for a store
    never restored, ``om-<seq>-<epoch>`` after a restore (:attr:`Store.event_id_epoch`), then
    ``suffix`` (``-cancel``: the cancel request's event of the same row).

    A redelivery keeps its id (the outbox stores the event whole), so a listener may drop
    duplicates by id.  A restore rewinds the sequence: without the epoch, the events after
    it reused ids the listeners had already seen, with other content, and were dropped."""
    stem = f"om-{seq}-{epoch}" if epoch else f"om-{seq}"
    return stem + suffix


def iso(ts: float) -> str:
    """``2026-01-31T10:00:00.000Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def typed(view: dict[str, Any], default: str) -> dict[str, Any]:
    """``view`` with its ``@type`` last: the client's when it sent one (a subclass of the TMF
    resource, such as a CPQ's ``CpqProductOrder``), else ``default``, the TMF class.  Last,
    after the server's own attributes, as TMF's samples put it."""
    sent = view.pop("@type", None)
    view["@type"] = sent if isinstance(sent, str) and sent else default
    return view
