"""How TMF resources write times and links: shared by the order views (:mod:`.tmf`) and the
cancel requests (:mod:`.cancels`), so that both read alike."""

from __future__ import annotations

from datetime import UTC, datetime

from om_dsl.runtime.downstream.urls import path_text


def href(base: str, ident: str) -> str:
    """``<base>/<ident>``, the id percent-encoded whole (``/``, ``?``, ``%``, blanks too): an id
    is data, and must neither add a path segment nor start a query."""
    return f"{base}/{path_text(ident)}"


def iso(ts: float) -> str:
    """``2026-01-31T10:00:00.000Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
