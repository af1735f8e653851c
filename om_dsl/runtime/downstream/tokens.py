"""Callback tokens of asynchronous callouts: unguessable, single-use, persisted as a hash.

A token is issued (and its SHA-256 stored) *before* the request leaves, so that a callback
racing the ``202`` answer, or arriving after a crash and restart, still finds its item.  Only
the hash is stored: the store never holds a usable token.  A token is used once; a callback
that arrives while its item cannot take it yet (the item is ``ready`` to be re-attempted after a
restart) is kept as *early* and taken by the item's next ``202``.  A token whose item stopped
waiting for it (finished by an operator, cancelled, superseded by an amendment) is *void*: its
callback is recorded and ignored, never applied.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from om_dsl.runtime.downstream.state import SideDb

TokenState = Literal["issued", "used", "early", "void"]
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    hash: str
    order_id: str
    item_id: str
    attempt: int
    state: TokenState


class CallbackTokens:
    def __init__(self, side: SideDb, clock: Callable[[], float] = time.time) -> None:
        self._side = side
        self._clock = clock

    def issue(self, order_id: str, item_id: str, attempt: int) -> str:
        """A fresh token for one attempt of one item, persisted (as a hash) before use."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._side.write() as db:
            db.execute(
                "INSERT INTO callback_tokens (hash, order_id, item_id, attempt, issued_at, state) "
                "VALUES (?, ?, ?, ?, ?, 'issued')",
                (token_hash(token), order_id, item_id, attempt, self._clock()),
            )
        return token

    def lookup(self, token: str) -> IssuedToken | None:
        """The token's record, or None when it was never issued (or the text is no token)."""
        if not token or len(token) > 256:
            return None
        rows = self._side.query(
            "SELECT hash, order_id, item_id, attempt, state FROM callback_tokens WHERE hash = ?",
            (token_hash(token),),
        )
        return IssuedToken(*rows[0]) if rows else None

    def finish(
        self, digest: str, state: TokenState, payload: Mapping[str, Any] | None = None
    ) -> None:
        """Mark a token used (or early, keeping the payload for the item's next attempt)."""
        text = json.dumps(dict(payload)) if payload is not None else None
        with self._side.write() as db:
            db.execute(
                "UPDATE callback_tokens SET state = ?, payload_json = ? WHERE hash = ?",
                (state, text, digest),
            )

    def take_early(self, order_id: str, item_id: str) -> dict[str, Any] | None:
        """The payload of a callback that arrived before the item could take it (then used)."""
        with self._side.write() as db:
            row = db.execute(
                "SELECT hash, payload_json FROM callback_tokens "
                "WHERE order_id = ? AND item_id = ? AND state = 'early' ORDER BY issued_at LIMIT 1",
                (order_id, item_id),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE callback_tokens SET state = 'used' WHERE hash = ?", (row[0],))
        value = json.loads(row[1]) if row[1] else {}
        return value if isinstance(value, dict) else {}

    def move(self, order_id: str, item_id: str, new_item_id: str) -> None:
        """An amendment kept the item on a history line under ``new_item_id`` (its outcome is
        unknown): the callback of its accepted request must settle it there, not be kept as
        early for the item that runs the line again."""
        with self._side.write() as db:
            db.execute(
                "UPDATE callback_tokens SET item_id = ? "
                "WHERE order_id = ? AND item_id = ? AND state IN ('issued', 'early')",
                (new_item_id, order_id, item_id),
            )

    def void(self, order_id: str, item_id: str) -> None:
        """The item no longer waits (cancelled, completed by hand, superseded): a callback with
        one of its tokens is answered ``ignored`` and changes nothing."""
        with self._side.write() as db:
            db.execute(
                "UPDATE callback_tokens SET state = 'void' "
                "WHERE order_id = ? AND item_id = ? AND state IN ('issued', 'early')",
                (order_id, item_id),
            )
