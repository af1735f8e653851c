"""The symbol table: every named declaration of the catalog, with duplicates reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from om_dsl.errors import DiagnosticBag
from om_dsl.source import Span
from om_dsl.syntax import ast

COMMERCIAL = ("offer", "bundle")
TECHNICAL = ("cfs", "rfs", "resource")


@dataclass(slots=True)
class Broken:
    """Names that declarations dropped for a syntax error would have provided.

    Such a name looks unknown (E020, E025, E026) or incomplete (no rule produces it, it has no
    plan, no plan of it has the item: W001, W002, W004, W006, E027) only because of the syntax
    error, which is reported: the passes keep quiet about it.  Errors about other names are
    still reported.
    """

    declared: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    numbers: set[Span] = field(default_factory=set)
    """Spans of bad numbers (E005): the value there is a stand-in, not what was written."""

    def stands_in(self, span: Span) -> bool:
        """Whether a literal at ``span`` is a bad number's stand-in: it has no value to check."""
        return bool(self.numbers) and span in self.numbers  # (hashing a span is not free)

    def declares(self, name: str) -> bool:
        """Whether a broken declaration declared ``name`` (so it is not unknown)."""
        return name in self.declared

    def completes(self, name: str) -> bool:
        """Whether a broken declaration declared ``name`` or would have completed it."""
        return name in self.completed or name in self.declared

    def add(self, decl: ast.BrokenDecl) -> None:
        self.declared.update(decl.declared)
        self.completed.update(decl.completed)
        if decl.kind is not None:
            self.kinds.add(decl.kind)


@dataclass(slots=True)
class Symbols:
    header: ast.CatalogDecl | None = None
    enums: dict[str, ast.EnumDecl] = field(default_factory=dict)
    products: dict[str, ast.ProductDecl] = field(default_factory=dict)
    systems: dict[str, ast.SystemDecl] = field(default_factory=dict)
    queues: dict[str, ast.QueueDecl] = field(default_factory=dict)
    tables: dict[str, ast.TableDecl] = field(default_factory=dict)
    orders: list[ast.OrderDecl] = field(default_factory=list)
    decomposes: list[ast.DecomposeDecl] = field(default_factory=list)
    plans: list[ast.PlanDecl] = field(default_factory=list)
    depends: list[ast.DependDecl] = field(default_factory=list)
    families: dict[str, list[str]] = field(default_factory=dict)
    broken: Broken = field(default_factory=Broken)

    def technical(self) -> list[ast.ProductDecl]:
        return [p for p in self.products.values() if p.kind in TECHNICAL]

    def commercial(self) -> list[ast.ProductDecl]:
        return [p for p in self.products.values() if p.kind in COMMERCIAL]

    def kind_of(self, name: str) -> str | None:
        if name in self.products:
            return self.products[name].kind
        for kind, table in (("enum", self.enums), ("system", self.systems), ("table", self.tables)):
            if name in table:
                return kind
        return "queue" if name in self.queues else None


def collect(modules: list[ast.Module], root_file: str, bag: DiagnosticBag) -> Symbols:
    symbols = Symbols()
    names: dict[str, Any] = {}
    for module in modules:
        for decl in module.decls:
            _collect_one(symbols, names, decl, module.file == root_file, bag)
        for broken in module.broken:
            symbols.broken.add(broken)
        symbols.broken.numbers.update(module.bad_numbers)
    _families(symbols)
    if symbols.header is None and not _syntax_errors(bag, root_file):
        bag.error(
            "E013",
            f"{root_file} has no catalog header",
            Span(root_file, 1, 1, 1, 1),  # editors and CI annotations need a location
            'start the root file with: catalog "Name" version "1"',
        )
    return symbols


def _syntax_errors(bag: DiagnosticBag, file: str) -> bool:
    """A declaration with a syntax error is dropped: it may well have been the header."""
    return any(
        d.code in ("E001", "E004") and d.span is not None and d.span.file == file for d in bag.items
    )


def _collect_one(
    symbols: Symbols, names: dict[str, Any], decl: Any, in_root: bool, bag: DiagnosticBag
) -> None:
    if isinstance(decl, ast.CatalogDecl):
        _header(symbols, decl, in_root, bag)
    elif isinstance(
        decl, ast.EnumDecl | ast.ProductDecl | ast.SystemDecl | ast.QueueDecl | ast.TableDecl
    ):
        if _unique(names, decl, bag):
            _table(symbols, decl)[decl.name.value] = decl
    elif isinstance(decl, ast.OrderDecl):
        symbols.orders.append(decl)
    elif isinstance(decl, ast.DecomposeDecl):
        symbols.decomposes.append(decl)
    elif isinstance(decl, ast.PlanDecl):
        symbols.plans.append(decl)
    elif isinstance(decl, ast.DependDecl):
        symbols.depends.append(decl)


def _table(symbols: Symbols, decl: Any) -> dict[str, Any]:
    if isinstance(decl, ast.EnumDecl):
        return symbols.enums
    if isinstance(decl, ast.ProductDecl):
        return symbols.products
    if isinstance(decl, ast.SystemDecl):
        return symbols.systems
    if isinstance(decl, ast.TableDecl):
        return symbols.tables
    return symbols.queues


def _header(symbols: Symbols, decl: ast.CatalogDecl, in_root: bool, bag: DiagnosticBag) -> None:
    if not in_root:
        bag.error(
            "E013",
            "the catalog header belongs in the root file, not in an imported file",
            decl.span,
        )
    elif symbols.header is not None:
        bag.error(
            "E013",
            "the catalog header is given twice",
            decl.span,
            f"first given at {symbols.header.span}",
        )
    else:
        symbols.header = decl


def _unique(names: dict[str, Any], decl: Any, bag: DiagnosticBag) -> bool:
    name = decl.name.value
    first = names.get(name)
    if first is None:
        names[name] = decl
        return True
    bag.error(
        "E021",
        f"'{name}' is declared twice",
        decl.name.span,
        f"first declared at {first.name.span}",
    )
    return False


def _families(symbols: Symbols) -> None:
    for product in symbols.products.values():
        for family in product.families:
            symbols.families.setdefault(family.value, []).append(product.name.value)
