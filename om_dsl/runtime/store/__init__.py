"""Stores: where orders, item rows and the event log live (SQLite by default)."""

from om_dsl.runtime.store.backup import Backup, backup_store
from om_dsl.runtime.store.base import EventRow, ItemRow, OrderRecord, Store, WriteBatch
from om_dsl.runtime.store.memory import MemoryStore
from om_dsl.runtime.store.prune import PrunePolicy, PruneReport
from om_dsl.runtime.store.restore import BackupMark, StoreIsBackup
from om_dsl.runtime.store.runner_lock import StoreInUse
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

__all__ = [
    "Backup",
    "BackupMark",
    "EventRow",
    "ItemRow",
    "MemoryStore",
    "OrderRecord",
    "PrunePolicy",
    "PruneReport",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreInUse",
    "StoreIsBackup",
    "WriteBatch",
    "backup_store",
]
