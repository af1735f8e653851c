"""The notifier's outbox in the side tables of each kind of store, for the tests of its rules
(``tests/downstream/test_notify_pacing.py``, ``tests/runtime/test_product_event_order.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.notify.outbox import Outbox
from om_dsl.runtime.store.base import Store
from om_dsl.runtime.store.memory import MemoryStore
from om_dsl.runtime.store.sqlite import SqliteStore

StoreMaker = Callable[[Path], Store]
STORES: dict[str, StoreMaker] = {
    "memory": lambda _: MemoryStore(),
    "sqlite": lambda path: SqliteStore(path / "om.db"),
}
"""Each kind of store, made in a test's folder (SQLite: the outbox is in the store's file)."""


@contextmanager
def outbox_of(kind: str, folder: Path) -> Iterator[Outbox]:
    """The outbox over a fresh store of ``kind`` (a key of :data:`STORES`), closed after."""
    store = STORES[kind](folder)
    side = SideDb(store)
    try:
        yield Outbox(side)
    finally:
        side.close()
        store.close()
