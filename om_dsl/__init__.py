"""om_dsl: an order-management system whose catalog is a compiled text DSL."""

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
    "DownstreamSettings",
    "HandlerRegistry",
    "MemoryStore",
    "NotifySettings",
    "Runtime",
    "SqliteStore",
    "build_plan",
    "decompose",
]
