"""Event ids of a restored store: a new epoch, so no eventId the original issued is reused.

A restored event log rewinds its sequence, and the events after a restore used to reuse ids
(``om-<seq>``) that the listeners had already seen from the original, with other content, so
listeners that drop duplicates by id dropped real state changes.  A store that accepted a
restore keeps a random *event id epoch* in ``meta``, and its events are ``om-<seq>-<epoch>``.
The epoch is random, not a counter: one backup may be restored twice, and each restore must
issue ids of its own.
"""

from __future__ import annotations

import secrets

EVENT_ID_EPOCH = "event_id_epoch"
"""The ``meta`` row of the store's event id epoch (:attr:`Store.event_id_epoch`), made when a
restore was accepted; absent from a store never restored."""
EPOCH_BYTES = 4
"""8 hex characters: two restores of one backup never meet in practice (1 in 4 billion), and
an eventId stays short."""


def new_epoch() -> str:
    """A new event id epoch (:data:`EPOCH_BYTES`, random)."""
    return secrets.token_hex(EPOCH_BYTES)
