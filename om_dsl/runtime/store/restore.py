"""Backup copies are not run by mistake, and a restore does not reuse the original's event ids.

A copy of the store holds the registrations of the production listeners and every order left
unfinished: a process that runs it (``om serve`` to check a backup, at a path of its own, so
the runner lock of the original does not stop it) resumes those orders, sends their callouts
to the real downstream systems and their events to the real listeners.  So ``om backup``
marks its copy (a ``meta`` row: :data:`BACKUP_MARK`), and a runner refuses a marked store
(:class:`StoreIsBackup`) unless told that it is a restore (``--restored``,
``SqliteStore(path, restored=True)``).  Reading a copy runs nothing and is never refused.

Accepting a restore clears the mark and starts a new *event id epoch* in one transaction: the
restored event log rewinds its sequence, and the events after the restore used to reuse ids
(``om-<seq>``) that the listeners had already seen from the original, with other content,
so listeners that drop duplicates by id dropped real state changes.  The epoch is random, not
a counter: one backup may be restored twice, and each restore must issue ids of its own.

Each accepted restore also notes the sequence number from which its epoch counts
(:data:`EPOCH_STARTS`), so that the epoch a row of the log was written in stays known: a
cancel request's id (``cpo-<seq>-<epoch>``, :mod:`om_dsl.runtime.notify.cancels`) is given
once and must keep naming that request, where an event is made anew at each delivery.

A copy made by other means (``cp`` of a stopped store, a file system snapshot) carries no
mark, and is not recognised: ``om backup`` is the way to take one.
"""

from __future__ import annotations

import json
import secrets
import shlex
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from om_dsl.errors import OmError

BACKUP_MARK = "backup_of"
"""The ``meta`` row that says a store is a copy made by ``om backup``: :class:`BackupMark` as
JSON.  An older om_dsl ignores ``meta`` rows it does not know."""
EVENT_ID_EPOCH = "event_id_epoch"
"""The ``meta`` row of the store's event id epoch (:attr:`Store.event_id_epoch`), made when a
restore was accepted; absent from a store never restored."""
EPOCH_STARTS = "event_id_epoch_starts"
"""The ``meta`` row of where each event id epoch starts in the log: JSON ``[[seq, epoch],
...]``, one pair per accepted restore, oldest first (a backup carries the pairs of the
restores before it).  The rows from ``seq`` on were written in that epoch, until the next
pair; the rows before the first pair in none (``""``).  Absent from a store never restored,
and from one an older om_dsl restored: its rows count as written in none, as the ids it gave
their cancel requests said (``cpo-<seq>``)."""
EpochStarts = tuple[tuple[int, str], ...]
"""The pairs of :data:`EPOCH_STARTS`, read."""
EPOCH_BYTES = 4
"""8 hex characters: two restores of one backup never meet in practice (1 in 4 billion), and
an eventId stays short."""


@dataclass(frozen=True, slots=True)
class BackupMark:
    """What ``om backup`` wrote into its copy: where it comes from, when, and what it held."""

    source: str
    """The store it was copied from, its real path (symlinks resolved)."""
    taken_at: str
    """When, in UTC (``2026-11-28T02:00:04Z``)."""
    orders: int

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "taken_at": self.taken_at,
                           "orders": self.orders}, sort_keys=True)  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> BackupMark:
        """The mark a copy holds; one that cannot be read (edited by hand) is still a mark:
        the copy is refused all the same, naming what is known."""
        try:
            found: Any = json.loads(text)
        except (ValueError, RecursionError):
            found = None
        data = found if isinstance(found, dict) else {}
        orders = data.get("orders")
        return cls(
            str(data.get("source", "an unknown store")),
            str(data.get("taken_at", "at an unknown time")),
            orders if isinstance(orders, int) else 0,
        )


def mark_copy(copy: sqlite3.Connection, source: str | Path, orders: int) -> BackupMark:
    """Mark ``copy`` (a new backup, nobody else's yet) as a backup of ``source``."""
    taken = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mark = BackupMark(str(Path(source).resolve()), taken, orders)
    copy.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (BACKUP_MARK, mark.to_json())
    )
    return mark


def new_epoch() -> str:
    """A new event id epoch (:data:`EPOCH_BYTES`, random)."""
    return secrets.token_hex(EPOCH_BYTES)


def epoch_at(starts: EpochStarts, seq: int) -> str:
    """The epoch the log's row ``seq`` was written in (``""``: before any restore this
    om_dsl accepted): that of the last start at or before ``seq``.  Two starts at one ``seq``
    (a backup taken and restored again before anything was logged): the later one."""
    found = ""
    for first, epoch in starts:
        if first > seq:
            break
        found = epoch
    return found


def starts_json(starts: EpochStarts) -> str:
    return json.dumps([list(pair) for pair in starts])


def starts_from_json(text: str) -> EpochStarts | None:
    """The pairs :data:`EPOCH_STARTS` holds; None when they cannot be read (edited by hand)."""
    try:
        found: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(found, list) or not all(_is_start(pair) for pair in found):
        return None
    return tuple((int(first), str(epoch)) for first, epoch in found)


def _is_start(pair: Any) -> bool:
    return (
        isinstance(pair, list)
        and len(pair) == 2
        and isinstance(pair[0], int)
        and isinstance(pair[1], str)
    )


class StoreIsBackup(OmError):
    """A runner was given a copy made by ``om backup`` that was not accepted as a restore.

    Running it would resume its unfinished orders against the real systems and listeners.
    ``db`` is the copy, ``mark`` what ``om backup`` wrote in it, ``unfinished`` how many
    orders running it would resume.
    """

    def __init__(self, db: str, mark: BackupMark, unfinished: int, action: str = "run") -> None:
        self.db = db
        self.mark = mark
        self.unfinished = unfinished
        self.action = action
        """What was refused: ``run`` (a runner), ``pruned`` (``om prune``, ``store.prune``), or
        ``written`` (a write to a copy that ``SqliteStore(path)`` opened)."""
        super().__init__(_REFUSALS[action](db, mark, unfinished))

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle re-calls the class with ``args`` (the message) by default, which fails here
        return (type(self), (self.db, self.mark, self.unfinished, self.action), dict(vars(self)))


def _refusal(db: str, mark: BackupMark, unfinished: int) -> str:
    """Why the copy is not run, what running it would do, and the two ways on: in lines."""
    return (
        f"{db} is a backup of {mark.source} taken {mark.taken_at} (om backup), not restored: "
        "it is not run\n"
        f"running it resumes its {unfinished} unfinished order(s): their callouts go to the "
        "downstream systems and their events to the listeners registered in it, as if it "
        f"were {mark.source}\n"
        f"to look at it, read it: `om orders`, `om status`, `om events` "
        f"(--db {shlex.quote(db)}) run nothing\n"
        f"to run it in place of {mark.source} (a restore: that store stopped and moved "
        "aside), give --restored (`om serve --restored`, `om resume --restored`; "
        "`SqliteStore(path, restored=True)` in Python)"
    )


def _prune_refusal(db: str, mark: BackupMark, _unfinished: int) -> str:
    """Why a backup copy is not pruned: it would no longer be the backup it says it is."""
    return (
        f"{db} is a backup of {mark.source} taken {mark.taken_at} (om backup), not restored: "
        "it is not pruned\n"
        "pruning it would leave a backup that lacks orders its store had when it was taken\n"
        f"to prune it in place of {mark.source} (a restore: that store stopped and moved "
        "aside), give --restored (`om prune --restored`; `SqliteStore(path, restored=True)` "
        "in Python); it stays marked until it is run with --restored"
    )


def _write_refusal(db: str, mark: BackupMark, _unfinished: int) -> str:
    """Why a backup copy opened to write is left as it is: changed, it would no longer be the
    backup it says it is (and its checksum would fail)."""
    return (
        f"{db} is a backup of {mark.source} taken {mark.taken_at} (om backup), not restored: "
        "it is not changed\n"
        "a copy that changed is no longer the backup it says it is: `SqliteStore(path)` opens "
        "it read-only, byte for byte as it is\n"
        f"to use it in place of {mark.source} (a restore: that store stopped and moved aside), "
        "give --restored (`SqliteStore(path, restored=True)` in Python)"
    )


_REFUSALS = {"run": _refusal, "pruned": _prune_refusal, "written": _write_refusal}
