"""Decomposition: a validated commercial order in, fulfillment requests and lines out.

The façade a host service calls (:func:`decompose`) and the reusable object behind it
(:class:`Decomposer`), which holds what is built once per catalog: the lookup tables for
validation and the compiled rule program.  Both are immutable, so one decomposer serves many
threads; the durable engine serialises its own calls behind the adapter's lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from om_dsl.errors import DecompositionError
from om_dsl.expr import patterns
from om_dsl.ir import models as ir
from om_dsl.ir.io import content_hash, require_catalog
from om_dsl.orders.catalog_index import CatalogIndex
from om_dsl.orders.diff import compare
from om_dsl.orders.gc_pause import decomposition_gc
from om_dsl.orders.installed_base import InstalledBase, NoInstalledBase
from om_dsl.orders.inventory import ProductInventory, with_inventory
from om_dsl.orders.limits import DEFAULT_LIMITS, Limits
from om_dsl.orders.models import Decomposition, Order
from om_dsl.orders.parse import read_order
from om_dsl.orders.requests import assemble
from om_dsl.orders.structure import item_infos
from om_dsl.orders.trusted import maker
from om_dsl.orders.worlds import Setting, WorldRun, add_installed, unknown_bundles
from om_dsl.rules.engine import RuleEngine
from om_dsl.rules.program import RuleProgram
from om_dsl.rules.select import make_engine

_new_decomposition = maker(Decomposition)
"""The result, made without re-validating what :func:`.requests.assemble` made (see
:mod:`~om_dsl.orders.trusted`): checking its thousands of requests again bought nothing."""


class Decomposer:
    """Validates and decomposes orders against one catalog with one engine.

    Args:
        catalog: The compiled catalog (IR).
        engine: ``compiled`` (default) or ``durable``.
        limits: Bounds on the orders :meth:`read` accepts.
        pause_gc: Pause the cyclic garbage collector while an order is validated and
            decomposed, as the compiler does (see :mod:`om_dsl.orders.gc_pause`): a 10k-item
            order makes a few hundred thousand small objects that all survive, and the
            collector re-scanning them cost half the time.  Building the decomposer's tables
            is paused too: its closures and tables all survive as well, and with the
            collector running the build grew with the square of the catalog (a 6,000-product
            catalog took 1.4 s instead of 0.3 s).

    Raises:
        EngineUnavailable: the engine cannot run here (durable-rules on Python 3.13+).
    """

    def __init__(
        self,
        catalog: ir.Catalog,
        engine: str = "compiled",
        limits: Limits = DEFAULT_LIMITS,
        pause_gc: bool = True,
    ) -> None:
        self.catalog = require_catalog(catalog, "catalog")
        if not isinstance(limits, Limits):  # a dict of a host's settings failed at the first
            raise TypeError(  # order, 'dict' object has no attribute 'max_bytes'
                "limits must be a Limits (om_dsl.orders.limits.Limits(max_items=...)), not "
                + f"{type(limits).__name__} {limits!r}"[:120]
            )
        with decomposition_gc(pause_gc):
            self.index = CatalogIndex.build(catalog)
            self.program = RuleProgram(catalog)
            self.engine: RuleEngine = make_engine(engine, self.program)
        self.limits = limits
        self.pause_gc = pause_gc

    def read(self, order: Any) -> Order:
        """Validate an order (JSON text, bytes, parsed JSON or an :class:`Order`)."""
        with decomposition_gc(self.pause_gc):
            return read_order(order, self.index, self.limits)

    def decompose(
        self,
        order: Any,
        installed_base: InstalledBase | None = None,
        inventory: ProductInventory | None = None,
    ) -> Decomposition:
        """Validate (unless ``order`` is an :class:`Order` already) and decompose.

        ``inventory``: the product inventory, whose values a ``modify`` item without
        ``previous`` values of its own is compared with (:func:`.inventory.with_inventory`).

        Raises:
            OrderValidationError: the order is invalid (every issue, with JSON paths), or
                does not fit the inventory (O072 to O074).
            DecompositionError: a valid order could not be decomposed (a merge conflict, a
                mapping that failed, a produced value that breaks its attribute).
        """
        _check_hooks(installed_base, inventory)
        with decomposition_gc(self.pause_gc):
            valid = with_inventory(read_order(order, self.index, self.limits), inventory)
            with patterns.order_budget():  # matches() and D003 patterns: a budget of their own
                return self._decompose(valid, installed_base)

    def _decompose(self, valid: Order, installed_base: InstalledBase | None) -> Decomposition:
        infos = item_infos(valid)
        setting = Setting(
            self.program,
            self.engine,
            valid,
            infos,
            installed_base or NoInstalledBase(),
            self.limits.max_lines,
        )
        before = WorldRun(setting, "before").run()
        after = WorldRun(setting, "after").run()
        add_installed(before, after, setting)
        if setting.found:
            raise DecompositionError(setting.issues)
        program = self.program
        unknown = (
            unknown_bundles(valid.items, program.bundle_readers) if program.reads_bundle else None
        )
        requests = assemble(compare(before, after, infos, unknown), infos, program)
        fields = {"order_id": valid.id, "catalog_hash": self.catalog.content_hash}
        return _new_decomposition({**fields, "requests": requests})


def _check_hooks(installed_base: object, inventory: object) -> None:
    """A ``TypeError`` that says what to give for a hook that is not one: the data of an
    installed base (the shape ``--installed-base`` reads) failed deep in the decomposition, and
    only for an order with account lines ('dict' object has no attribute 'account_line')."""
    if installed_base is not None and not callable(getattr(installed_base, "account_line", None)):
        hint = (
            "; for the data (accounts -> products -> attributes), give "
            "om_dsl.orders.installed_lines.read_installed_lines(data, catalog)"
            if isinstance(installed_base, Mapping)
            else ""
        )
        raise TypeError(
            "installed_base must be an InstalledBase (an object with account_line(account, "
            f"product)), not {type(installed_base).__name__}{hint}"
        )
    if inventory is not None and not callable(getattr(inventory, "product", None)):
        raise TypeError(
            "inventory must be a ProductInventory (an object with product(product_id), such "
            f"as a runtime's store), not {type(inventory).__name__}"
        )


# ---- the façade ---------------------------------------------------------------------------------

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, str], Decomposer] = OrderedDict()
_cache_lock = threading.Lock()


def decomposer_for(catalog: ir.Catalog, engine: str = "compiled") -> Decomposer:
    """A cached :class:`Decomposer` (the last few catalogs, keyed by content hash and engine)."""
    catalog = require_catalog(catalog, "catalog")
    key = (catalog.content_hash or content_hash(catalog), engine)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    built = Decomposer(catalog, engine)
    with _cache_lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def decompose(
    catalog: ir.Catalog,
    order: Any,
    engine: str = "compiled",
    installed_base: InstalledBase | None = None,
    inventory: ProductInventory | None = None,
) -> Decomposition:
    """Decompose a commercial order against a compiled catalog.

    Args:
        catalog: The IR (from :func:`om_dsl.compile_catalog` or :func:`om_dsl.load_ir`).
        order: A TMF622 ProductOrder or a native order, as JSON text, UTF-8 bytes or parsed
            JSON (validated first), or an :class:`Order` (trusted as already validated).
        engine: ``compiled`` (default) or ``durable``; both give identical output.
        installed_base: What exists for ``account``-scoped lines; nothing by default.
        inventory: The product inventory (a runtime's store): a ``modify`` of a product it
            knows, without ``previous`` values, is compared with its recorded values.

    Raises:
        OrderValidationError: every problem of an invalid order, each with a JSON path
            (O072 to O074: the order does not fit the inventory).
        DecompositionError: the order is valid but cannot be decomposed.
        EngineUnavailable: the durable engine on a Python where durable-rules is missing.
    """
    return decomposer_for(catalog, engine).decompose(order, installed_base, inventory)
