"""State shared by the compiler passes of one compilation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from om_dsl.compiler.exprs import ExprChecker
from om_dsl.compiler.symbols import Symbols
from om_dsl.errors import DiagnosticBag
from om_dsl.expr.types import SAFE_INTEGER
from om_dsl.graphs import find_cycles
from om_dsl.ir import models as ir
from om_dsl.orders.trusted import maker
from om_dsl.source import Span

# One maker per class, looked up once: ``trusted(cls, ...)`` finds the maker on every call and
# evaluates a ``typing.cast`` to a subscripted ``Callable`` there, which made it as slow as
# validating (1.5 us against 0.5 us per span, 70k spans at 100k lines).  ``Final``, here and
# for the other makers of the compiler's modules: compiled (om_dsl.accel), a Final global is
# a C static, a plain one a module-dict look-up on every use.
_new_span: Final = maker(ir.SourceSpan)


@dataclass(frozen=True, slots=True)
class ProductRead:
    """An item that reads another product's item outputs (``Sim.assign.iccid``), with the
    actions of its plan: W006 checks the waits of each action."""

    product: str
    item: Any
    ref: ir.Ref
    actions: tuple[str, ...]


@dataclass(slots=True)
class Context:
    bag: DiagnosticBag
    symbols: Symbols
    exprs: ExprChecker
    attributes: dict[str, dict[str, ir.Attribute]] = field(default_factory=dict)
    order_attributes: dict[str, ir.Attribute] = field(default_factory=dict)
    plan_items: dict[str, dict[str, Span]] = field(default_factory=dict)
    item_outputs: dict[str, dict[str, frozenset[str] | None]] = field(default_factory=dict)
    """Product -> item -> its fixed outputs (a callout's response mappings), None when open;
    over all of the product's plans (see plans.collect_items)."""
    order_scope_cache: tuple[dict[str, ir.Attribute], dict[str, str]] | None = None
    """``order_attributes`` and the read-only scope made from them (see rules.order_scope)."""
    makers_cache: dict[str, list[str]] | None = None
    includers_cache: dict[str, list[str]] | None = None
    """Product -> the bundles whose ``includes`` name it, in declaration order (see
    rules.bundle_scope)."""
    """Technical product -> the offers and bundles that make it (see records.makers)."""
    product_reads: list[ProductRead] = field(default_factory=list)
    """Every read of another product's item outputs, in plan and item order: gathered while
    each plan's own reads are checked (outputs.check_plan_outputs), so
    that the cross-product check walks no expression again."""

    def span(self, span: Span) -> ir.SourceSpan:
        """The IR form of a source span (a third of all IR objects: built without validation).

        A Span always holds a file name and four ints, so validating them again buys nothing;
        ``tests/benchmarks`` checks that a compiled catalog equals its IR validated from JSON.
        """
        return _new_span(
            {
                "file": span.file,
                "line": span.line,
                "col": span.col,
                "end_line": span.end_line,
                "end_col": span.end_col,
            }
        )

    def too_large(self, value: int, span: Span, what: str) -> bool:
        """E005 for a count or duration that the IR cannot carry (or a runtime timer overflows)."""
        if abs(value) <= SAFE_INTEGER:
            return False
        self.bag.error("E005", f"{what} is too large", span, "the limit is 2^53 (milliseconds)")
        return True

    @staticmethod
    def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
        return find_cycles(graph)


def back_span(span: ir.SourceSpan) -> Span:
    """The diagnostic span of an IR span (passes that work on lowered IR report with it)."""
    return Span(span.file, span.line, span.col, span.end_line, span.end_col)
