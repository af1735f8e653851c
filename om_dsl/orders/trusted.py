"""Building result models from values that are valid by construction, without re-validating.

Pydantic validation costs about 4 us per model here, and a 10k-item order makes tens of
thousands of lines; the values decomposition puts in them were validated on the way in (the
order) or come from the catalog (the IR), so checking them again buys nothing.  This does what
``BaseModel.model_construct`` does, minus its per-field default handling: every field must be
given, in declaration order.  ``tests/decomposition`` checks that a result built this way
equals the same result validated from its JSON.

A model instance is its ``__dict__`` plus three slots of :class:`pydantic.BaseModel`; they are
set through the slots' own descriptors, looked up once per class (``object.__setattr__`` looks
each one up by name on every call: that was half the cost of a line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_SLOTS = vars(BaseModel)
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
_MAKERS: dict[type[BaseModel], Callable[[dict[str, Any]], BaseModel]] = {}


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``fields`` (all of them, already valid)."""
    return maker(cls)(fields)


def maker(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """``trusted`` for one class, for loops that build thousands of its instances."""
    found = _MAKERS.get(cls)
    if found is None:
        found = _MAKERS.setdefault(cls, _build(cls))
    return cast(Callable[[dict[str, Any]], M], found)


def _build(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    new = cls.__new__
    fields_set = set(cls.model_fields)

    def make(fields: dict[str, Any]) -> M:
        obj = new(cls)
        _set_dict(obj, fields)
        _set_fields_set(obj, fields_set)
        _set_extra(obj, None)
        _set_private(obj, None)
        return obj

    return make
