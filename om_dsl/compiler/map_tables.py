"""Named map tables (``table NAME: KEY -> VALUE { ... }``): checked once, before the rules and
plans that use them.

A table has no IR of its own: each ``map SUBJECT NAME`` lowers to the inline ``map`` the table
spells out (:meth:`om_dsl.compiler.exprs.ExprChecker.table`), so engines, diagrams and the IR
schema know nothing of tables.
"""

from __future__ import annotations

from om_dsl.compiler.context import Context
from om_dsl.compiler.products import resolve_type


def check_tables(ctx: Context) -> None:
    """Resolve each table's types and check its cases (keys, values, W005)."""
    for decl in ctx.symbols.tables.values():
        key = resolve_type(ctx, decl.key)
        value = resolve_type(ctx, decl.value)
        ctx.exprs.table(decl, key, value)
