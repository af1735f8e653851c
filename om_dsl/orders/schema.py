"""JSON Schemas that ``om schema`` publishes: the native order and the decomposition output."""

from __future__ import annotations

from typing import Any

from om_dsl.orders.models import Decomposition
from om_dsl.orders.native import NativeOrder


def order_json_schema() -> dict[str, Any]:
    """The native order format (``om schema order``); TMF622 orders follow TMF's own schema."""
    schema = NativeOrder.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "om_dsl native order"
    return schema


def decomposition_json_schema() -> dict[str, Any]:
    """What ``om decompose --format json`` prints and :func:`om_dsl.decompose` returns."""
    schema = Decomposition.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "om_dsl decomposition"
    return schema
