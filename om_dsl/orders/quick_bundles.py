"""Bundles for the quick readers: who is whose part, and whether every bundle is as the
thorough reader wants it (:mod:`~om_dsl.orders.relations`, :mod:`~om_dsl.orders.bundles`).

Like the readers, it never reports: None sends the order to the thorough reader, which finds
and words the problem.  Each check below is the condition of one of the thorough reader's
codes (named beside it), so an order that passes here passes there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from om_dsl.graphs import find_cycles

Fields = dict[str, Any]
"""An item's fields as the quick reader gathers them (those of :class:`OrderItem`)."""
Slots = Mapping[tuple[str, ...], tuple[int, int | None]]
"""The products of an include (one, or a choice group's) -> (min, max), counted together."""
Includes = Mapping[str, Slots]
"""Bundle name -> its includes: ``CatalogIndex.quick_includes``."""


def bundle_parents(
    by_id: Mapping[str, Fields],
    nested: Mapping[str, str],
    links: list[tuple[str, str]],
    includes: Includes,
) -> dict[str, str] | None:
    """Part id -> its bundle's item id, from nesting (``nested``) then from ``bundles`` links
    ((bundle id, part id), in document order); None when the thorough reader must look.
    ``by_id``: every item, by id."""
    parent = dict(nested)
    for bundle, part in links:
        if part not in by_id:  # O051 (a link to itself is a cycle below: O052)
            return None
        if parent.setdefault(part, bundle) != bundle:  # a part of two bundles (O053)
            return None
    # Nesting alone makes no cycle (a part comes after its bundle, and ids are unique).  The
    # compiler (E096) and the IR loader refuse a bundle that includes itself, so _fits would
    # refuse a cycle too; but a host may hand the decomposer a Catalog it built itself.
    if links and find_cycles({part: [bundle] for part, bundle in parent.items()}):  # O054
        return None
    kept: dict[str, dict[str, int]] = {}  # bundle id -> part product -> units that stay
    for part_id, bundle_id in parent.items():
        fields = by_id[part_id]
        if not _fits(fields, by_id[bundle_id], includes):
            return None
        counts = kept.setdefault(bundle_id, {})
        product: str = fields["product"]
        # what stays after the order; of a deleted bundle (all its parts delete): what goes
        counted = fields["action"] != "delete" or by_id[bundle_id]["action"] == "delete"
        units: int = fields["quantity"] if counted else 0
        counts[product] = counts.get(product, 0) + units
    for fields in by_id.values():
        parts = includes.get(fields["product"])
        if parts is not None and not _counts(fields, parts, kept.get(fields["id"], {})):
            return None
    return parent


def _fits(part: Fields, bundle: Fields, includes: Includes) -> bool:
    """The bundle's product is a bundle (O060) that includes the part's product (O061), and
    their actions go together (O042): a new bundle has new parts, a deleted one none left."""
    parts = includes.get(bundle["product"])
    if parts is None or all(part["product"] not in slot for slot in parts):
        return False
    action = bundle["action"]
    return not (action in ("add", "delete") and part["action"] != action)


def _counts(bundle: Fields, parts: Slots, kept: Mapping[str, int]) -> bool:
    """Every include within its cardinality, times the bundle's units (O062), counting the
    parts that stay after the order (of a choice group: of all its products); ``min`` only
    for a bundle being added (a modified one may list only the parts that change), or deleted
    (``kept`` then counts the parts it deletes, and ``max`` does not apply: nothing stays)."""
    units, action = bundle["quantity"], bundle["action"]
    for slot, (low, high) in parts.items():
        count = sum(kept.get(product, 0) for product in slot)
        if high is not None and action != "delete" and count > high * units:
            return False
        if action in ("add", "delete") and count < low * units:
            return False
    return True
