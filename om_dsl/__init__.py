"""om_dsl: an order-management system whose catalog is a compiled text DSL.

The public names below are imported on first use (PEP 562), not with the package: ``om check``
and a host that only compiles catalogs would otherwise load the runtime, the HTTP client and
the decomposition engines too, about a third of the CLI's start-up time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from om_dsl.accel import install_guard

install_guard()  # before any compiled module is imported: an out-of-date build is not used

if TYPE_CHECKING:
    from om_dsl.compiler.driver import CompileResult, compile_catalog
    from om_dsl.errors import (
        CompileError,
        DecompositionError,
        Diagnostic,
        IllegalTransition,
        InstalledBaseError,
        IRLoadError,
        NotFound,
        OmError,
        OperatorActionRejected,
        OrderIssue,
        OrderValidationError,
        PlanError,
        UnmappableCallback,
    )
    from om_dsl.ir.io import dump_ir, load_ir
    from om_dsl.ir.models import Catalog
    from om_dsl.orders.decompose import Decomposer, decompose
    from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest, Order
    from om_dsl.render.errors import GraphvizNotFound, RenderError
    from om_dsl.rules.engine import EngineUnavailable
    from om_dsl.runtime import (
        DownstreamSettings,
        HandlerRegistry,
        ItemContext,
        ItemState,
        ItemStatus,
        LifecycleEvent,
        MemoryStore,
        NotifySettings,
        OrderPlan,
        OrderState,
        OrderStatus,
        PermanentFailure,
        PlanCycleError,
        Revision,
        Runtime,
        RuntimeStopped,
        SigningError,
        SqliteStore,
        StoreError,
        StoreInUse,
        StoreIsBackup,
        Task,
        UnknownQueue,
        build_plan,
    )

__version__ = "0.1.0"

_HOMES = {
    "om_dsl.compiler.driver": ("CompileResult", "compile_catalog"),
    "om_dsl.errors": (
        "CompileError", "DecompositionError", "Diagnostic", "IllegalTransition",
        "InstalledBaseError", "IRLoadError", "NotFound",
        "OmError", "OperatorActionRejected", "OrderIssue", "OrderValidationError", "PlanError",
        "UnmappableCallback",
    ),
    "om_dsl.ir.io": ("dump_ir", "load_ir"),
    "om_dsl.ir.models": ("Catalog",),
    "om_dsl.orders.decompose": ("Decomposer", "decompose"),
    "om_dsl.orders.models": ("Decomposition", "FulfillmentLine", "FulfillmentRequest", "Order"),
    "om_dsl.render.errors": ("GraphvizNotFound", "RenderError"),
    "om_dsl.rules.engine": ("EngineUnavailable",),
    "om_dsl.runtime": (
        "DownstreamSettings", "HandlerRegistry", "ItemContext", "ItemState", "ItemStatus",
        "LifecycleEvent", "MemoryStore", "NotifySettings", "OrderPlan", "OrderState",
        "OrderStatus", "PermanentFailure", "PlanCycleError", "Revision", "Runtime",
        "RuntimeStopped", "SigningError", "SqliteStore", "StoreError", "StoreInUse",
        "StoreIsBackup", "Task", "UnknownQueue", "build_plan",
    ),
}  # fmt: skip
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Catalog",
    "CompileError",
    "CompileResult",
    "Decomposer",
    "Decomposition",
    "DecompositionError",
    "Diagnostic",
    "DownstreamSettings",
    "EngineUnavailable",
    "FulfillmentLine",
    "FulfillmentRequest",
    "GraphvizNotFound",
    "HandlerRegistry",
    "IRLoadError",
    "IllegalTransition",
    "InstalledBaseError",
    "ItemContext",
    "ItemState",
    "ItemStatus",
    "LifecycleEvent",
    "MemoryStore",
    "NotFound",
    "NotifySettings",
    "OmError",
    "OperatorActionRejected",
    "Order",
    "OrderIssue",
    "OrderPlan",
    "OrderState",
    "OrderStatus",
    "OrderValidationError",
    "PermanentFailure",
    "PlanCycleError",
    "PlanError",
    "RenderError",
    "Revision",
    "Runtime",
    "RuntimeStopped",
    "SigningError",
    "SqliteStore",
    "StoreError",
    "StoreInUse",
    "StoreIsBackup",
    "Task",
    "UnknownQueue",
    "UnmappableCallback",
    "build_plan",
    "compile_catalog",
    "decompose",
    "dump_ir",
    "load_ir",
]


if not TYPE_CHECKING:  # for a type checker, only the names imported above exist: a typo
    # (`om_dsl.compile_catalgo`) must be an error, not Any from a module __getattr__

    def __getattr__(name: str) -> Any:
        module = _HOME.get(name)
        if module is None:
            raise AttributeError(f"module 'om_dsl' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # the next access is a plain attribute
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
