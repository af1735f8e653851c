"""W011: a chained rule's wait that orders deletes the way it orders adds.

``decompose Mobile -> Sim before parent`` assigns the SIM before the service is activated. On
a delete order the same wait releases the SIM before the service is deactivated, and the
number can be handed to another customer while the old line is still live.  Tear-down is
usually the reverse of set-up, but not always, so the designer says which with ``on``
(``before parent on add, modify, noChange after parent on delete``); a wait without ``on``
whose two lines both have work on delete is this warning.
"""

from __future__ import annotations

from om_dsl.compiler.context import Context, back_span
from om_dsl.compiler.plan_cycles import ChainWait, ChainWaits
from om_dsl.ir import models as ir

_OPPOSITE = {"after_parent": "before parent", "before_parent": "after parent"}


def check_teardown(ctx: Context, plans: list[ir.Plan], chains: ChainWaits) -> None:
    """One W011 per rule whose wait, written without ``on``, joins two delete plans (the edges
    E062 and the plan builder use, so a parent without a delete plan passes it on)."""
    deleting = {p.product: p for p in plans if "delete" in p.actions}
    seen: set[str] = set()
    for waiter, awaited, wait in chains.edges(deleting, "delete"):
        if wait.rule.waits is None and wait.rule.id not in seen:
            seen.add(wait.rule.id)
            _report(ctx, wait, awaited[0], waiter[0])


def _report(ctx: Context, wait: ChainWait, first: str, then: str) -> None:
    """``first`` and ``then``: the products whose delete plans run in that order (a parent
    without a delete plan passes the wait on to its planned ancestor, which is named)."""
    how = wait.written()
    ctx.bag.warning(
        "W011",
        f"`{how}` of {wait.parent} -> {wait.child} holds on delete too: "
        f"each {first} line's delete plan runs before the one of the {then} line "
        f"it {'is made from' if first == wait.child else 'makes'}",
        back_span(wait.rule.span),
        f"to delete in the reverse order, write `{how} on add, modify, noChange "
        f"{_OPPOSITE[wait.how]} on delete`",
        f"to keep this order, write `{how} on *`",
    )
