"""``manual`` items: a task in a queue, done by a person (``runtime.tasks``).

Starting the item opens its task and leaves it ``waiting`` under ``queue:<name>``; its due date
is the start plus the item's ``expect``.  It never times out by itself unless the item says
``timeout``.  A person completing the task resolves the item with the outputs they enter.
A cancelled item leaves its queue by no longer waiting there: its task row stays, as the record
of the task (``runtime.tasks.get`` reads it as ``cancelled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream.tasks import TaskTable, queue_key
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.runtime.outcomes import Completed, Outcome, Waiting


class ManualKind(ItemKind):
    def __init__(self, table: TaskTable) -> None:
        self.table = table

    def start_now(self, ctx: ItemContext) -> Outcome:
        """Opening a task is one small write: no asyncio task needed."""
        queue: str = ctx.spec.queue
        self.table.open(ctx.order_id, ctx.item_id, queue, ctx.attempt, ctx.spec.expect_ms)
        return Waiting(f"in queue {queue}", key=queue_key(queue))

    async def start(self, ctx: ItemContext) -> Outcome:
        return self.start_now(ctx)

    def resolve(self, ctx: ItemContext, payload: Mapping[str, Any]) -> Outcome:
        return Completed(dict(payload))
