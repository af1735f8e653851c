"""Orchestration: the plan builder and the durable runtime.

The public names are re-exported here (and the main ones from ``om_dsl``); the modules behind
them are private and may change.
"""

from om_dsl.runtime.builder import PlanCycleError, build_plan
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream import (
    DownstreamSettings,
    SystemStatus,
    Task,
    UnknownQueue,
    idempotency_key,
)
from om_dsl.runtime.events import LifecycleEvent
from om_dsl.runtime.fallout import BulkRetry, FalloutFilter, FalloutItem
from om_dsl.runtime.handlers import HandlerRegistry, PermanentFailure
from om_dsl.runtime.kinds import ItemKind, KindRegistry
from om_dsl.runtime.notify import NotifySettings, SigningError
from om_dsl.runtime.outcomes import Completed, Failed, OnHold, Outcome, Waiting
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine
from om_dsl.runtime.revision import Revision
from om_dsl.runtime.runtime import Runtime, RuntimeStopped
from om_dsl.runtime.states import ItemState, OrderState
from om_dsl.runtime.status import ItemStatus, OrderStatus
from om_dsl.runtime.store import (
    MemoryStore,
    PrunePolicy,
    PruneReport,
    SqliteStore,
    Store,
    StoreError,
    StoreInUse,
    StoreIsBackup,
)

__all__ = [
    "BulkRetry",
    "Completed",
    "DownstreamSettings",
    "Failed",
    "FalloutFilter",
    "FalloutItem",
    "HandlerRegistry",
    "ItemContext",
    "ItemKind",
    "ItemState",
    "ItemStatus",
    "KindRegistry",
    "LifecycleEvent",
    "MemoryStore",
    "NotifySettings",
    "OnHold",
    "OrderPlan",
    "OrderState",
    "OrderStatus",
    "Outcome",
    "PermanentFailure",
    "PlanCycleError",
    "PlanItemInstance",
    "PlanLine",
    "PrunePolicy",
    "PruneReport",
    "Revision",
    "Runtime",
    "RuntimeStopped",
    "SigningError",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreInUse",
    "StoreIsBackup",
    "SystemStatus",
    "Task",
    "UnknownQueue",
    "Waiting",
    "build_plan",
    "idempotency_key",
]
