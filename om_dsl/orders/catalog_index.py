"""Lookup tables over a compiled catalog that order validation needs, built once per catalog.

Orders name products by catalog name, TMF offering id or name, or specification id or name, and
attributes by name or alias; each lookup here is a dict access, so validation stays linear in
the size of the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from om_dsl.ir import models as ir
from om_dsl.orders.drafts import ProductRef
from om_dsl.orders.values import Check, attribute_check

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


@dataclass(slots=True)
class CatalogIndex:
    catalog: ir.Catalog
    offers: dict[str, ir.CommercialProduct] = field(default_factory=dict)
    technical: dict[str, ir.TechnicalProduct] = field(default_factory=dict)
    tables: dict[str, AttrTable] = field(default_factory=dict)
    order_table: AttrTable = field(default_factory=lambda: AttrTable.build([], {}))
    _refs: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, catalog: ir.Catalog) -> CatalogIndex:
        enums = {e.name: e.members for e in catalog.enums}
        index = cls(catalog)
        index.offers = {o.name: o for o in catalog.offers}
        index.technical = {t.name: t for t in catalog.technical}
        index.tables = {o.name: AttrTable.build(o.attributes, enums) for o in catalog.offers}
        index.order_table = AttrTable.build(catalog.order_attributes, enums)
        for offer in catalog.offers:
            index._index_refs(offer)
        return index

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
