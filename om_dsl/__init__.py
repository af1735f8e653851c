"""om_dsl: an order-management system whose catalog is a compiled text DSL."""

from om_dsl.orders.decompose import decompose

__version__ = "0.1.0"

__all__ = ["decompose"]
