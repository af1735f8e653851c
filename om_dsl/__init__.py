"""om_dsl: an order-management system whose catalog is a compiled text DSL."""

from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.errors import (
    CompileError,
    DecompositionError,
    IllegalTransition,
    IRLoadError,
    NotFound,
    OmError,
    OperatorActionRejected,
    OrderValidationError,
    PlanError,
)
from om_dsl.ir.io import dump_ir, load_ir
from om_dsl.ir.models import Catalog
from om_dsl.orders.decompose import decompose
from om_dsl.runtime import (
    DownstreamSettings,
    HandlerRegistry,
    MemoryStore,
    NotifySettings,
    Runtime,
    SqliteStore,
    build_plan,
)

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "CompileError",
    "CompileResult",
    "DecompositionError",
    "DownstreamSettings",
    "HandlerRegistry",
    "IRLoadError",
    "IllegalTransition",
    "MemoryStore",
    "NotFound",
    "NotifySettings",
    "OmError",
    "OperatorActionRejected",
    "OrderValidationError",
    "PlanError",
    "Runtime",
    "SqliteStore",
    "build_plan",
    "compile_catalog",
    "decompose",
    "dump_ir",
    "load_ir",
]
