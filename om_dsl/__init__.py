"""om_dsl: an order-management system whose catalog is a compiled text DSL."""

__version__ = "0.1.0"
