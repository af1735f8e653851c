"""The event names a catalog's ``wait`` items wait for: whether a signalled name is one.

`om signal number.porte` completed no item and said only "completed 0 waiting item(s)": a
misspelt name looks the same as an event nobody waits for yet.  A name no catalog declares
(exactly, or as the rendering of a name with ``{placeholders}``) gets a warning with the
closest declared name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from om_dsl.ir import models as ir
from om_dsl.suggest import closest

PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def declared_events(catalogs: Iterable[ir.Catalog]) -> list[str]:
    """Every event name the catalogs' wait items declare, as written, sorted."""
    found = {
        item.event
        for catalog in catalogs
        for plan in catalog.plans
        for item in plan.items
        if isinstance(item, ir.WaitItem) and item.event
    }
    return sorted(found)


def declares(name: str, declared: Iterable[str]) -> bool:
    """Whether ``name`` is a declared name, or what one with placeholders renders
    (``link.up.LYO-2`` for ``link.up.{line.circuit_id}``)."""
    for event in declared:
        if event == name:
            return True
        if PLACEHOLDER.search(event) and _pattern(event).fullmatch(name):
            return True
    return False


def undeclared_warning(name: str, declared: list[str]) -> str | None:
    """The warning for a signalled name no catalog declares (None when one does)."""
    if declares(name, declared):
        return None
    if not declared:
        return f"no catalog of the store declares an event (no wait item waits for '{name}')"
    close = closest(name, declared)
    hint = f"did you mean '{close}'? " if close is not None else ""
    listed = ", ".join(declared[:10]) + (" ..." if len(declared) > 10 else "")
    return f"no catalog of the store declares the event '{name}' ({hint}declared: {listed})"


def _pattern(event: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(event)
    return re.compile(".+".join(re.escape(part) for part in parts))
