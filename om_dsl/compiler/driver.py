"""The compiler façade: source files in, IR and diagnostics out (Jinja2's one-function style)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from om_dsl.compiler import plans as plan_pass
from om_dsl.compiler import products as product_pass
from om_dsl.compiler import rules as rule_pass
from om_dsl.compiler import systems as system_pass
from om_dsl.compiler.context import Context
from om_dsl.compiler.exprs import ExprChecker
from om_dsl.compiler.lints import lint
from om_dsl.compiler.loader import Loader
from om_dsl.compiler.symbols import collect
from om_dsl.errors import CompileError, Diagnostic, DiagnosticBag
from om_dsl.ir import models as ir
from om_dsl.ir.io import with_hash
from om_dsl.source import SourceFile


@dataclass(frozen=True, slots=True)
class CompileResult:
    catalog: ir.Catalog | None
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile]

    @property
    def ok(self) -> bool:
        return self.catalog is not None

    def raise_on_error(self) -> ir.Catalog:
        if self.catalog is None:
            raise CompileError(self.diagnostics, self.sources)
        return self.catalog


def compile_catalog(path: str | Path, text: str | None = None) -> CompileResult:
    """Compile the catalog whose root file is ``path`` (``text`` overrides its content).

    Never raises for a problem in the catalog: every problem is a diagnostic.
    """
    bag = DiagnosticBag()
    loaded = Loader(Path(path), bag, text).load()
    catalog = _compile(loaded.modules, Path(path).name, bag) if loaded.modules else None
    diagnostics = bag.sorted()
    if bag.has_errors:
        catalog = None
    return CompileResult(catalog, diagnostics, loaded.sources)


def _compile(modules: list, root_file: str, bag: DiagnosticBag) -> ir.Catalog:  # type: ignore[type-arg]
    symbols = collect(modules, root_file, bag)
    enums = {name: [m.value for m in e.members] for name, e in symbols.enums.items()}
    ctx = Context(bag, symbols, ExprChecker(bag, enums))
    enum_defs = product_pass.lower_enums(ctx)
    order_attrs = product_pass.lower_order_attributes(ctx)
    ctx.order_attributes = {a.name: a for a in order_attrs}
    offers, technical = product_pass.lower_products(ctx)
    rules = rule_pass.lower_rules(ctx)
    systems = system_pass.lower_systems(ctx)
    queues = system_pass.lower_queues(ctx)
    plan_pass.collect_items(ctx)
    plans = plan_pass.lower_plans(ctx)
    deps = plan_pass.lower_dependencies(ctx, plans)
    lint(ctx, offers, technical, rules, plans)
    header = symbols.header
    catalog = ir.Catalog(
        name=header.name if header else "",
        version=header.version if header else "",
        doc=header.doc if header else None,
        files=[m.file for m in modules],
        enums=enum_defs,
        order_attributes=order_attrs,
        offers=offers,
        technical=technical,
        rules=rules,
        systems=systems,
        queues=queues,
        plans=plans,
        dependencies=deps,
    )
    return with_hash(catalog)
