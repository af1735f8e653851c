"""``milestone`` and ``wait``: kinds that need nothing from outside the runtime to start."""

from __future__ import annotations

from om_dsl.expr.evaluate import EvalError
from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.runtime.outcomes import Completed, Failed, Outcome, Waiting


class MilestoneKind(ItemKind):
    """A named point of the plan (e.g. ``line_ready``): done as soon as it may start."""

    async def start(self, ctx: ItemContext) -> Outcome:
        return Completed({})

    def start_now(self, ctx: ItemContext) -> Outcome | None:
        return Completed({})


class WaitKind(ItemKind):
    """``wait x event "name"`` waits for ``runtime.signal(name)``; ``wait x until cond``
    waits until the condition over order, line and output data holds."""

    async def start(self, ctx: ItemContext) -> Outcome:
        return self.start_now(ctx)

    def start_now(self, ctx: ItemContext) -> Outcome:
        try:
            event = ctx.event_name()
        except EvalError as exc:  # the line cannot name its event: nobody could signal it
            return Failed(str(exc), permanent=True)
        if event is not None:
            return Waiting(f"waiting for event '{event}'", event=event)
        return self.poll(ctx) or Waiting("waiting until its condition holds", poll=True)

    def poll(self, ctx: ItemContext) -> Outcome | None:
        try:
            return Completed({}) if ctx.until_holds() else None
        except EvalError as exc:
            return Failed(str(exc), permanent=True)
