"""Which lines a cross-product ``depend`` reaches: root, order and relies_on scopes.

``within root`` (the default) links lines that serve the same root order item (a bundle and
everything below it); ``within order`` links every line of the order; ``within relies_on``
links lines whose order items are joined by reliesOn relationships.  Only when the order itself
is not at hand (a plan built from a decomposition alone) does it fall back on the requests: the
lines of a shared relies_on request, and of the requests that use it.  That is coarser, since a
bundle's request uses the relies_on request of each of its lines, and so it is never used when
the order says which items rely on which (a two-line bundle linked each line's billing to both
lines).

Within a root, the units of one item ordered with a quantity (``voice[1]``, ``voice[2]``: one
phone line each) pair one to one: unit 2's service waits for unit 2's number, not for every
unit's.  Waiting for every unit was also N x N edges: 53 s and 1.1 GB to plan one item of
quantity 1,000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from om_dsl.orders.models import Decomposition, FulfillmentLine, FulfillmentRequest, Order


class LineScopes:
    """Indexes of one order's lines, built once, answering "lines of product P in scope of L"."""

    def __init__(
        self, decomposition: Decomposition, order: Order | None, lines: Sequence[FulfillmentLine]
    ) -> None:
        self._by_product: dict[str, list[FulfillmentLine]] = defaultdict(list)
        self._by_root: dict[tuple[str, str], list[FulfillmentLine]] = defaultdict(list)
        self._by_link: dict[tuple[str, str], list[FulfillmentLine]] = defaultdict(list)
        self._links: dict[str, tuple[str, ...]] = {}
        self._units: dict[str, tuple[str, str] | None] = {}
        self._by_unit: dict[tuple[str, str, str], list[FulfillmentLine]] = defaultdict(list)
        self._position: dict[str, int] = {}
        self._rest: dict[tuple[tuple[tuple[str, str], ...], str], list[FulfillmentLine]] = {}
        groups = _relies_on_groups(order)
        requests = {r.id: r for r in decomposition.requests}
        for n, line in enumerate(lines):
            self._position[line.id] = n
            unit = self._units[line.id] = unit_of(line)
            if unit is not None:
                self._by_unit[(*unit, line.product)].append(line)
            self._by_product[line.product].append(line)
            for root in line.root_items:
                self._by_root[(root, line.product)].append(line)
            links = _link_keys(line, groups, requests)
            self._links[line.id] = links
            for key in links:
                self._by_link[(key, line.product)].append(line)

    def lines_in_scope(
        self, line: FulfillmentLine, within: str, product: str
    ) -> list[FulfillmentLine]:
        """Lines of ``product`` that ``line`` can depend on, in decomposition order, no repeats."""
        if within == "order":
            return list(self._by_product.get(product, ()))
        if within == "root":
            keys = [(root, product) for root in line.root_items]
            unit = self._units.get(line.id)
            if unit is None:
                return _merged(self._by_root, keys)
            return self._same_unit(unit, keys)
        keys = [(key, product) for key in self._links[line.id]]
        return _merged(self._by_link, keys)

    def _same_unit(
        self, unit: tuple[str, str], keys: list[tuple[str, str]]
    ) -> list[FulfillmentLine]:
        """The root's lines, but of the units of ``unit``'s item only the one of that unit
        (in decomposition order; each part is indexed, so N units cost N, not N x N)."""
        product = keys[0][1] if keys else ""
        rest_key = (tuple(keys), unit[0])
        rest = self._rest.get(rest_key)
        if rest is None:  # the same for every unit of the item: worked out once
            rest = self._rest[rest_key] = [
                line
                for line in _merged(self._by_root, keys)
                if (other := self._units[line.id]) is None or other[0] != unit[0]
            ]
        own = self._by_unit.get((*unit, product), [])
        return sorted([*rest, *own], key=lambda line: self._position[line.id])


def unit_of(line: FulfillmentLine) -> tuple[str, str] | None:
    """(item id, unit) of a line made for one unit of an item ordered with a quantity above 1.

    Decomposition names such a line ``ITEM[k]/...`` (its chained lines too) and gives it that
    one source item; a shared line (``order/...``) or a line of an item of quantity 1 has none.
    """
    if len(line.source_items) != 1:
        return None
    prefix = line.source_items[0] + "["
    if not line.id.startswith(prefix):
        return None
    end = line.id.find("]/", len(prefix))
    unit = line.id[len(prefix) : end]
    return (line.source_items[0], unit) if end > 0 and unit.isdigit() else None


def _merged(
    index: dict[tuple[str, str], list[FulfillmentLine]], keys: list[tuple[str, str]]
) -> list[FulfillmentLine]:
    found: dict[str, FulfillmentLine] = {}
    for key in keys:
        for line in index.get(key, ()):
            found.setdefault(line.id, line)
    return list(found.values())


def _relies_on_groups(order: Order | None) -> dict[str, str] | None:
    """Order item id -> the id of its reliesOn group (union-find over reliesOn relationships);
    None without the order."""
    if order is None:
        return None
    parent: dict[str, str] = {item.id: item.id for item in order.items}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for item in order.items:
        for rel in item.relationships:
            if rel.type.lower() == "relieson":
                a, b = find(item.id), find(rel.id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {item: find(item) for item in parent}


def _link_keys(
    line: FulfillmentLine, groups: dict[str, str] | None, requests: dict[str, FulfillmentRequest]
) -> tuple[str, ...]:
    """Keys that two relies_on-linked lines have in common."""
    known = groups or {}
    keys = dict.fromkeys(f"item:{known.get(s, s)}" for s in line.source_items)
    request = requests.get(line.request)
    if groups is None and request is not None:
        if request.shared and request.scope == "relies_on":
            keys[f"req:{request.id}"] = None
        keys.update(dict.fromkeys(f"req:{used}" for used in request.uses))
    return tuple(keys)
