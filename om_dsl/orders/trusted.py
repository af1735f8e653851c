"""Building result models from values that are valid by construction, without re-validating.

Pydantic validation costs about 10 us per model, and a 10k-item order makes tens of thousands
of lines; the values decomposition puts in them were validated on the way in (the order) or
come from the catalog (the IR), so checking them again buys nothing.  This does what
``BaseModel.model_construct`` does, minus its per-field default handling: every field must be
given, in declaration order.  ``tests/decomposition`` checks that a result built this way
equals the same result validated from its JSON.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_set_attr = object.__setattr__
_FIELDS_SET: dict[type[BaseModel], set[str]] = {}


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``fields`` (all of them, already valid)."""
    fields_set = _FIELDS_SET.get(cls)
    if fields_set is None:
        fields_set = _FIELDS_SET.setdefault(cls, set(cls.model_fields))
    obj = cls.__new__(cls)
    _set_attr(obj, "__dict__", fields)
    _set_attr(obj, "__pydantic_fields_set__", fields_set)
    _set_attr(obj, "__pydantic_extra__", None)
    _set_attr(obj, "__pydantic_private__", None)
    return obj
