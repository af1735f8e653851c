"""om_dsl: an order-management system whose catalog is a compiled text DSL."""

from om_dsl.orders.decompose import decompose
from om_dsl.runtime import HandlerRegistry, MemoryStore, Runtime, SqliteStore, build_plan

__version__ = "0.1.0"

__all__ = [
    "HandlerRegistry",
    "MemoryStore",
    "Runtime",
    "SqliteStore",
    "build_plan",
    "decompose",
]
