"""Lookup tables over a compiled catalog that order validation needs, built once per catalog.

Orders name products by catalog name, TMF offering id or name, or specification id or name, and
attributes by name or alias; each lookup here is a dict access, so validation stays linear in
the size of the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from om_dsl.ir import models as ir
from om_dsl.orders.drafts import ProductRef
from om_dsl.orders.prerequisites import requirements
from om_dsl.orders.values import Accept, Check, attribute_check, quick_accept

_FALLBACKS: dict[str, tuple[str, ...]] = {
    "name": ("name", "name_id", "offering_name"),
    "offering_name": ("offering_name", "offering_cname"),
}


@dataclass(frozen=True, slots=True)
class AttrSpec:
    attr: ir.Attribute
    check: Check


@dataclass(frozen=True, slots=True)
class AttrTable:
    """The attributes of one product (or of the order block), by name and by alias."""

    by_name: dict[str, AttrSpec]
    aliases: dict[str, str]
    defaults: dict[str, Any]
    required: tuple[str, ...]
    """Required attributes without a default: the order must give them."""

    @classmethod
    def build(cls, attrs: Sequence[ir.Attribute], enums: Mapping[str, Sequence[str]]) -> AttrTable:
        return cls(
            by_name={a.name: AttrSpec(a, attribute_check(a, enums)) for a in attrs},
            aliases={a.alias: a.name for a in attrs if a.alias},
            defaults={a.name: a.default for a in attrs if a.has_default and a.default is not None},
            required=tuple(a.name for a in attrs if a.required and not a.has_default),
        )

    def lookup(self, name: str) -> AttrSpec | None:
        spec = self.by_name.get(name)
        if spec is None and name in self.aliases:
            spec = self.by_name[self.aliases[name]]
        return spec

    def names(self) -> list[str]:
        return [*self.by_name, *self.aliases]


# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
_NO_DEFAULT: Final[Any] = object()


@dataclass(frozen=True, slots=True)
class QuickTable:
    """The attributes of one product (or of the order block) for the quick reader
    (:mod:`om_dsl.orders.quick`): each name and alias with its :func:`quick_accept` test, and
    the declaration order with defaults.  Its answers are the thorough reader's
    (:func:`om_dsl.orders.attributes.resolve_values`), or None where that one would report a
    problem or might."""

    accepts: dict[str, tuple[str, Accept]]
    steps: tuple[tuple[str, Any, bool], ...]
    """(name, default or ``_NO_DEFAULT``, required), in declaration order."""

    @classmethod
    def build(cls, attrs: Sequence[ir.Attribute], enums: Mapping[str, Sequence[str]]) -> QuickTable:
        accepts = {a.name: (a.name, quick_accept(a, enums)) for a in attrs}
        accepts.update({a.alias: accepts[a.name] for a in attrs if a.alias})
        steps = tuple(
            (
                a.name,
                a.default if a.has_default and a.default is not None else _NO_DEFAULT,
                a.required,
            )
            for a in attrs
        )
        return cls(accepts, steps)

    def values(self, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """The non-null values by attribute name, in the order given."""
        out: dict[str, Any] = {}
        accepts = self.accepts
        for name, value in given.items():
            hit = accepts.get(name)
            if hit is None:  # an unknown name, even with null: the thorough reader says it
                return None
            if value is None:  # null is absent
                continue
            attr, accept = hit
            if attr in out or not accept(value):
                return None
            out[attr] = value
        return out

    def previous(self, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """A ``modify``'s values before the order, by attribute name, in the order given: as
        :meth:`values`, except that a null says the attribute had no value before, so it
        stands for the default (or stays null), not for "unchanged"."""
        out: dict[str, Any] = {}
        accepts = self.accepts
        for name, value in given.items():
            hit = accepts.get(name)
            if hit is None:
                return None
            attr, accept = hit
            if attr in out or (value is not None and not accept(value)):
                return None
            out[attr] = self.default(attr) if value is None else value
        return out

    def default(self, name: str) -> Any:
        """The attribute's default, or None."""
        for step, default, _ in self.steps:
            if step == name:
                return None if default is _NO_DEFAULT else default
        return None

    def complete(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Declaration order with defaults filled in; None when a required one is missing."""
        out: dict[str, Any] = {}
        for name, default, required in self.steps:
            if name in values:
                out[name] = values[name]
            elif default is not _NO_DEFAULT:
                out[name] = default
            elif required:
                return None
        return out


def _bounds(includes: list[ir.Include]) -> dict[tuple[str, ...], tuple[int, int | None]]:
    """The products an include counts (one, or a choice group's) -> (min, max).  The compiler
    refuses a product included twice (E024), but neither the IR loader (for single includes)
    nor a Catalog built in Python checks it: the bounds of one key then combine as the
    thorough reader applies them, every one (the highest min, the lowest max), and a product
    in two keys counts in both, as there."""
    out: dict[tuple[str, ...], tuple[int, int | None]] = {}
    for inc in includes:
        key = inc.products
        low, high = out.get(key, (inc.min, inc.max))
        low = max(low, inc.min)
        if inc.max is not None:
            high = inc.max if high is None else min(high, inc.max)
        out[key] = (low, high)
    return out


@dataclass(slots=True)
class CatalogIndex:
    catalog: ir.Catalog
    offers: dict[str, ir.CommercialProduct] = field(default_factory=dict)
    technical: dict[str, ir.TechnicalProduct] = field(default_factory=dict)
    tables: dict[str, AttrTable] = field(default_factory=dict)
    order_table: AttrTable = field(default_factory=lambda: AttrTable.build([], {}))
    quick_tables: dict[str, QuickTable] = field(default_factory=dict)
    quick_order: QuickTable = field(default_factory=lambda: QuickTable.build([], {}))
    quick_offers: dict[str, str] = field(default_factory=dict)
    """What a native item's ``product`` may say -> the offer or bundle it is, for the names the
    quick reader takes (those that resolve to exactly one)."""
    quick_includes: dict[str, dict[tuple[str, ...], tuple[int, int | None]]] = field(
        default_factory=dict
    )
    """Bundle name -> the products of an include (one, or a choice group's) -> their (min,
    max) in the bundle: what the quick readers
    check bundles with (plain tables: the IR's ``includes`` are models, read attribute by
    attribute)."""
    quick_refs: dict[tuple[str | None, ...], str | None] = field(default_factory=dict)
    """The TMF622 quick reader's memo: (offering id, offering name, spec id, spec name) -> the
    one offer or bundle they name together, or None (filled as orders are read, bounded).  The
    one part of the index that changes, and only as a cache: threads that race on a key both
    compute the same name (each dict operation is atomic under the GIL)."""
    requires: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """Offer name -> its ``requires`` groups (offers with some only): empty, as in most
    catalogs, the prerequisite check costs nothing."""
    _refs: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, catalog: ir.Catalog) -> CatalogIndex:
        enums = {e.name: e.members for e in catalog.enums}
        index = cls(catalog)
        index.offers = {o.name: o for o in catalog.offers}
        index.technical = {t.name: t for t in catalog.technical}
        index.tables = {o.name: AttrTable.build(o.attributes, enums) for o in catalog.offers}
        index.order_table = AttrTable.build(catalog.order_attributes, enums)
        index.quick_tables = {o.name: QuickTable.build(o.attributes, enums) for o in catalog.offers}
        index.quick_order = QuickTable.build(catalog.order_attributes, enums)
        for offer in catalog.offers:
            index._index_refs(offer)
        index.quick_offers = index._quick_offers()
        index.quick_includes = {
            o.name: _bounds(o.includes) for o in catalog.offers if o.kind == "bundle"
        }
        index.requires = requirements(catalog)
        return index

    def _quick_offers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for kind, text in self._refs:
            if kind in _FALLBACKS["name"]:
                found = self.resolve(ProductRef("name", text, ""))
                if len(found) == 1:
                    out[text] = found[0]
        return out

    def _index_refs(self, offer: ir.CommercialProduct) -> None:
        keys = [("name", offer.name), ("offering_cname", offer.name)]
        if offer.display_name:
            keys.append(("offering_name", offer.display_name))
        if offer.external_id:
            keys += [("offering_id", offer.external_id), ("name_id", offer.external_id)]
        for spec in offer.specs:
            keys.append(("spec_id", spec.id))
            if spec.name:
                keys.append(("spec_name", spec.name))
        for k in keys:
            names = self._refs.setdefault(k, [])
            if offer.name not in names:
                names.append(offer.name)

    def resolve(self, ref: ProductRef) -> list[str]:
        """The offers or bundles ``ref`` can mean: none, one, or (ambiguous) several.

        A catalog name wins over an offering id that happens to be spelled the same, and an
        offering's display name over another offering's catalog name.
        """
        for kind in _FALLBACKS.get(ref.kind, (ref.kind,)):
            found = self._refs.get((kind, ref.text))
            if found:
                return found
        return []

    def product_names(self) -> list[str]:
        return [*self.offers, *(o.display_name for o in self.offers.values() if o.display_name)]

    def ref_texts(self, kind: str) -> list[str]:
        """Suggestions for a reference of ``kind`` that matches nothing: names of that kind (a
        spec name is suggested spec names, never an offer's name); none for an id, whose
        neighbour (14305 for 1430) would be another product, not a typo fixed."""
        if kind in _FALLBACKS:  # a product's name: its catalog or display name
            return self.product_names()
        if kind.endswith("_id"):
            return []
        return list(dict.fromkeys(text for k, text in self._refs if k == kind))
