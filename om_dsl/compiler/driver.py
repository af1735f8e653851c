"""The compiler façade: source files in, IR and diagnostics out (Jinja2's one-function style)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from om_dsl.compiler import plans as plan_pass
from om_dsl.compiler import products as product_pass
from om_dsl.compiler import rules as rule_pass
from om_dsl.compiler import systems as system_pass
from om_dsl.compiler.allow import apply_allows
from om_dsl.compiler.context import Context
from om_dsl.compiler.exprs import ExprChecker
from om_dsl.compiler.lints import lint
from om_dsl.compiler.loader import LoadedCatalog, Loader, printable
from om_dsl.compiler.map_tables import check_tables
from om_dsl.compiler.roots import NotOneRoot, importer_of, one_root, shown_importer
from om_dsl.compiler.symbols import collect
from om_dsl.compiler.unimported import hint_imports
from om_dsl.errors import CompileError, Diagnostic, DiagnosticBag
from om_dsl.ir import models as ir
from om_dsl.ir.io import with_hash
from om_dsl.source import SourceFile, Span
from om_dsl.syntax import ast
from om_dsl.syntax.parser import TOO_MANY_ERRORS


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

    ``path`` may be the folder that holds the root file, as on the command line: a folder of
    no root file or of several is an E010.  Never raises for a problem in the catalog: every
    problem is a diagnostic.
    """
    bag = DiagnosticBag()
    root = Path(path)
    if text is None:
        try:
            root = one_root(root)
        except NotOneRoot as exc:
            bag.error("E010", printable(exc.reason), Span(printable(root.name), 1, 1, 1, 1))
            return CompileResult(None, bag.sorted(), {})
    with gc_paused(promote=True):
        loaded = parse_phase(root, bag, text)
        catalog = None
        if text is None and _part_of_a_catalog(loaded, root, bag):
            pass  # checked on its own, it would only give errors its root file answers
        elif loaded.modules and not _abandoned(bag):
            checked = check_phase(loaded.modules, root.name, bag)
            # A catalog with errors is not returned, so it is not assembled and hashed either
            # (its parts were built without validation from values that passed the checks).
            if not bag.has_errors:
                catalog = lower_phase(checked)
    diagnostics = bag.sorted()
    if text is None and bag.has_errors:
        diagnostics = hint_imports(diagnostics, loaded.sources, root.parent)
    diagnostics = apply_allows(diagnostics, loaded.sources)
    return CompileResult(catalog, diagnostics, loaded.sources)


def _part_of_a_catalog(loaded: LoadedCatalog, root: Path, bag: DiagnosticBag) -> bool:
    """E013 for a file without a header that a catalog root imports (an editor checking the
    file it saved): it names that root, instead of a header to add, unknown names its siblings
    declare and offers without rules.  False (nothing reported) for any other file."""
    module = next((m for m in loaded.modules if m.file == root.name), None)
    if module is None or any(isinstance(d, ast.CatalogDecl) for d in module.decls):
        return False
    importer = importer_of(root)
    if importer is None:
        return False
    shown = shown_importer(root, importer)
    bag.error(
        "E013",
        f"{root.name} has no catalog header: it is a part of the catalog {shown}, which imports it",
        Span(root.name, 1, 1, 1, 1),
        f"check the catalog from its root: om check {shown}",
    )
    return True


def _abandoned(bag: DiagnosticBag) -> bool:
    """A file cut short after too many errors (E009) is not checked further: names it would
    have declared would only come back as a second flood of unknown-name errors."""
    return any(d.code == TOO_MANY_ERRORS for d in bag.items)


@contextmanager
def gc_paused(promote: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a catalog compiles.

    Compiling allocates millions of small objects that all stay alive (tokens, AST, IR), so
    every automatic collection re-scans a growing heap for cycles that are not there: it cost
    40% of a 100k-line compile.  Reference counting still frees everything as usual; the
    collector resumes (if it was running) when the block exits.

    With ``promote``, what is alive on exit moves to the oldest generation without being
    scanned (``gc.freeze()`` + ``gc.unfreeze()``: two list splices), as decomposition does
    (:mod:`om_dsl.orders.gc_pause`).  Otherwise the first young collection after the block
    scans everything it made (0.4 s after a 100k-line compile, paid by the next allocation);
    the compiled IR is long-lived data, scanned at the next full collection like any other.
    Skipped when the host froze objects on purpose (``gc.freeze()`` before forking workers),
    since unfreezing would release them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if promote and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


# ---- phases: compile_catalog is parse -> check -> lower (separate so benchmarks can time them)


@dataclass(slots=True)
class CheckedCatalog:
    """What the check phase produced: the IR parts, checked and lowered pass by pass."""

    header: ast.CatalogDecl | None
    files: list[str]
    enums: list[ir.EnumDef]
    order_attributes: list[ir.Attribute]
    offers: list[ir.CommercialProduct]
    technical: list[ir.TechnicalProduct]
    rules: list[ir.DecompositionRule]
    systems: list[ir.System]
    queues: list[ir.Queue]
    plans: list[ir.Plan]
    dependencies: list[ir.Dependency]


def parse_phase(path: Path, bag: DiagnosticBag, text: str | None = None) -> LoadedCatalog:
    """Read and parse the root file and its imports into ASTs."""
    return Loader(path, bag, text).load()


def check_phase(modules: list[ast.Module], root_file: str, bag: DiagnosticBag) -> CheckedCatalog:
    """Resolve names and run every pass; each pass checks a construct and lowers it to IR."""
    symbols = collect(modules, root_file, bag)
    enums = {name: [m.value for m in e.members] for name, e in symbols.enums.items()}
    ctx = Context(bag, symbols, ExprChecker(bag, enums, symbols.broken, symbols.kind_of))
    enum_defs = product_pass.lower_enums(ctx)
    check_tables(ctx)
    order_attrs = product_pass.lower_order_attributes(ctx)
    ctx.order_attributes = {a.name: a for a in order_attrs}
    offers, technical = product_pass.lower_products(ctx)
    rules = rule_pass.lower_rules(ctx)
    systems = system_pass.lower_systems(ctx)
    queues = system_pass.lower_queues(ctx)
    plan_pass.collect_items(ctx)
    plans = plan_pass.lower_plans(ctx)
    deps = plan_pass.lower_dependencies(ctx, plans, rules)
    lint(ctx, offers, technical, rules, plans, deps)
    return CheckedCatalog(
        symbols.header, [m.file for m in modules], enum_defs, order_attrs, offers, technical,
        rules, systems, queues, plans, deps,
    )  # fmt: skip


def lower_phase(checked: CheckedCatalog) -> ir.Catalog:
    """Assemble the catalog model from its parts and stamp its content hash."""
    header = checked.header
    catalog = ir.Catalog(
        name=header.name if header else "",
        version=header.version if header else "",
        doc=header.doc if header else None,
        files=checked.files,
        enums=checked.enums,
        order_attributes=checked.order_attributes,
        offers=checked.offers,
        technical=checked.technical,
        rules=checked.rules,
        systems=checked.systems,
        queues=checked.queues,
        plans=checked.plans,
        dependencies=checked.dependencies,
    )
    return with_hash(catalog)
