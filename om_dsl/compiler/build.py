"""IR models built from checked values without validating them again.

The passes check every value before it reaches the IR (names resolved, types agreed, literals
in range), so pydantic's validation of each model only repeats that work: about 2.5 us per
model, 65k models at 100k lines.  :func:`builder` gives a keyword constructor that fills in
the declared defaults and sets the fields directly (:mod:`om_dsl.orders.trusted`), in about
1 us.  ``tests/benchmarks`` checks that a compiled catalog equals its IR validated from JSON,
and the golden IR snapshots that the JSON is unchanged.

Only for values that are valid by construction: a pass that could hand over a wrong type
(even after reporting an error) must keep the validating constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from om_dsl.orders.trusted import maker

M = TypeVar("M", bound=BaseModel)


def builder(cls: type[M]) -> Callable[..., M]:
    """``cls(**fields)`` without validation: omitted fields take their declared default.

    The instance's dict lists every field in declaration order, as validation makes it (the
    JSON dump follows that order).  A list default is a fresh list per instance, as pydantic
    copies it; given values are kept as they are (validation would copy a list: do not change
    one after handing it over).
    """
    make = maker(cls)
    template: dict[str, Any] = {}
    list_defaults: list[str] = []
    for name, info in cls.model_fields.items():
        template[name] = None if info.is_required() else info.default
        if isinstance(info.default, list):
            assert not info.default, f"{cls.__name__}.{name}: only empty list defaults"
            list_defaults.append(name)
    fresh = tuple(list_defaults)
    required = frozenset(n for n, info in cls.model_fields.items() if info.is_required())
    size = len(template)

    def build(**fields: Any) -> M:
        # One dict merge in C keeps the template's (declaration) order.
        values = {**template, **fields}
        if len(values) != size or not fields.keys() >= required:  # what validation would catch
            raise TypeError(f"{cls.__name__}: unknown or missing fields in {sorted(fields)}")
        for name in fresh:
            if name not in fields:
                values[name] = []
        return make(values)

    return build
