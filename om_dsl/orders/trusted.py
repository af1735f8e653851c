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
from typing import Any, Final, TypeVar, cast

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use: four
# per model made, a sixth of a line's cost.
_SLOTS: Final = vars(BaseModel)
_set_dict: Final = _SLOTS["__dict__"].__set__
_get_dict: Final = _SLOTS["__dict__"].__get__
_set_fields_set: Final = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra: Final = _SLOTS["__pydantic_extra__"].__set__
_set_private: Final = _SLOTS["__pydantic_private__"].__set__
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


def blank_maker(cls: type[M]) -> Callable[[], tuple[M, dict[str, Any]]]:
    """Instances of ``cls`` whose fields the caller writes: each comes with its own ``__dict__``,
    empty, into which every field must be written, in declaration order, before the instance is
    used.

    For the models made per line of a decomposition.  A dict built first and handed over (what
    :func:`maker` takes) has a hash table of its own, over 512 bytes for 15 fields, so each one
    is a ``malloc``; the instance's own dict shares its keys with every instance of the class
    and holds only the values, which writing into it fills in place.
    """
    new = cls.__new__
    fields_set = set(cls.model_fields)

    def make() -> tuple[M, dict[str, Any]]:
        obj = new(cls)
        _set_fields_set(obj, fields_set)
        _set_extra(obj, None)
        _set_private(obj, None)
        fields: dict[str, Any] = _get_dict(obj, cls)
        return obj, fields

    return make
