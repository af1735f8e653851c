"""The arguments of ``Runtime(...)``, checked before anything is made.

A wrong one used to be accepted and fail much later, far from the mistake: a path given as
``store="om.db"`` at the first submit (``'str' object has no attribute 'has_order'``), a dict
of functions given as ``handlers`` in every item that ran (fatally failed with "'function'
object has no attribute 'inline'"), past a point of no return too.  Each is a ``TypeError``
(``ValueError`` for a count below 1) that says what is expected, as Python's own are.
"""

from __future__ import annotations

import os
from typing import Any

from om_dsl.ir.io import require_catalog
from om_dsl.runtime.downstream.world import DownstreamSettings
from om_dsl.runtime.handlers import HandlerRegistry
from om_dsl.runtime.kinds.base import KindRegistry
from om_dsl.runtime.store.base import Store

INVENTORY_METHODS = frozenset({"product", "products", "count_products", "product_version"})
"""The product inventory's: optional, so that a host's store written before it still runs
(its ``modify`` items list every attribute as changed, it lists no products and makes no
TMF637 events)."""
COUNT_METHODS = frozenset({"count_orders", "count_items"})
"""The service's metrics read these; optional as well (the metrics leave their series out)."""
PRUNE_METHODS = frozenset({"prune"})
"""Retention (``om prune``): optional too; a host's store without it keeps every order."""
FALLOUT_METHODS = frozenset({"fallout"})
"""Listing fallout in one read: optional (without it, each held order's status is read)."""
EPOCH_METHODS = frozenset({"epoch_of"})
"""The epoch of a log row, in cancel request ids: optional (without it, none has one)."""
OPTIONAL_METHODS = (
    INVENTORY_METHODS | COUNT_METHODS | PRUNE_METHODS | FALLOUT_METHODS | EPOCH_METHODS
)
STORE_METHODS = tuple(
    name
    for name, value in vars(Store).items()
    if callable(value) and not name.startswith("_") and name not in OPTIONAL_METHODS
)
"""What a store must offer (:class:`Store` is a protocol: a host may bring its own)."""


def check_arguments(
    ir: object,
    store: object,
    handlers: object,
    *,
    kinds: object,
    counts: dict[str, object],
    clock: object,
    downstream: object,
) -> None:
    """Raise for the first argument that is not what ``Runtime`` takes.

    Raises:
        TypeError: an argument of the wrong kind, with what to give instead.
        ValueError: ``concurrency`` or ``handler_threads`` below 1.
    """
    _check_ir(ir)
    _check_store(store)
    if handlers is not None and not isinstance(handlers, HandlerRegistry):
        raise TypeError(
            f"handlers must be a HandlerRegistry, not {_kind(handlers)}: "
            'registry = HandlerRegistry(); registry.register("name", function) for each '
            'handler the catalog names (or @registry.handler("name"))'
        )
    _check_type("kinds", kinds, KindRegistry)
    _check_type("downstream", downstream, DownstreamSettings)
    for name, count in counts.items():
        _check_count(name, count)
    if not callable(clock):
        raise TypeError(
            f"clock must be a function returning the time in seconds, not {_kind(clock)}"
        )


def _check_ir(ir: object) -> None:
    if ir is not None:
        require_catalog(ir, "ir")


def _check_store(store: object) -> None:
    if store is None:
        return
    if isinstance(store, str | bytes | os.PathLike):
        raise TypeError(
            f"store must be a store, not the path {store!r}: give store=SqliteStore({store!r}) "
            "(or MemoryStore(), the default)"
        )
    missing = [name for name in STORE_METHODS if not callable(getattr(store, name, None))]
    if missing:
        raise TypeError(
            f"store must be a SqliteStore, a MemoryStore or another Store, not {_kind(store)} "
            f"(it lacks {', '.join(missing)})"
        )


def _check_count(name: str, count: object) -> None:
    if not isinstance(count, int) or isinstance(count, bool):
        raise TypeError(f"{name} must be a whole number, not {_kind(count)}")
    if count < 1:
        raise ValueError(f"{name} must be at least 1, not {count}")


def _check_type(name: str, value: object, wanted: type[Any]) -> None:
    if value is not None and not isinstance(value, wanted):
        raise TypeError(f"{name} must be a {wanted.__name__} or None, not {_kind(value)}")


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r}"[:120]
