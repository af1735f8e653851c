"""The item-kind interface: how the scheduler starts any kind of item without knowing it.

A kind turns an item's start into an :mod:`~om_dsl.runtime.outcomes` value.  Everything else
(states, retries, timeouts, persistence, events) is the runtime's job, so a new kind (callout,
manual, ...) is a class registered in a :class:`KindRegistry`, and no scheduler change.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from typing import Any

from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.outcomes import Completed, Failed, Outcome


class ItemKind(abc.ABC):
    """One kind of plan item (``auto``, ``milestone``, ``wait``, ``callout``, ``manual``)."""

    @abc.abstractmethod
    async def start(self, ctx: ItemContext) -> Outcome:
        """Run one attempt.  Exceptions count as a (retryable) failure of the attempt."""

    def start_now(self, ctx: ItemContext) -> Outcome | None:
        """Finish the attempt on the spot when that needs no waiting (a milestone, an inline
        handler), or return None to have :meth:`start` run as an asyncio task.

        The fast path for trivial items: no task, no loop round trip.
        """
        return None

    def poll(self, ctx: ItemContext) -> Outcome | None:
        """Called for an item ``Waiting(poll=True)`` when outputs of its order change.

        Return an outcome to leave ``waiting``, or None to keep waiting.
        """
        return None

    def resolve(self, ctx: ItemContext, payload: Mapping[str, Any]) -> Outcome:
        """Turn what completed a waiting item (an event, a callback body, a person's input)
        into its outcome; e.g. a callout maps the callback body to outputs here."""
        return Completed(dict(payload))

    def timed_out(self, ctx: ItemContext, reason: str) -> str:
        """The reason an attempt that timed out fails with.  ``reason`` is the runtime's
        (``timed out after 3000 ms``); a kind may say which request it was, and what is known
        of its outcome."""
        return reason

    def scrub(self, ctx: ItemContext, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """``payload`` (a callback body) made fit to store: a kind that sends credentials hides
        them here, before the payload is kept (early callbacks) or reported."""
        return payload

    def cancel(self, ctx: ItemContext) -> None:
        """The waiting item was cancelled (order cancel): release what it holds, if anything."""
        return None

    def renamed(self, order_id: str, item_id: str, new_item_id: str) -> None:
        """An amendment kept the item, unfinished, on a history line under ``new_item_id``:
        what the kind holds for it (a callback token) must now find it there."""
        return None

    def close(self) -> None:
        """The runtime stops: release threads, connections and the like."""
        return None

    async def aclose(self) -> None:
        """The runtime's event loop is about to end: release what is bound to it (e.g. pooled
        HTTP connections, which cannot be reused on the next loop)."""
        return None


class UnsupportedKind(ItemKind):
    """Stands in for a kind that no implementation was registered for: fails permanently."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def start(self, ctx: ItemContext) -> Outcome:
        return Failed(
            f"no implementation of '{self.kind}' items is registered in this runtime "
            f"(register one with runtime.kinds.register({self.kind!r}, ...))",
            permanent=True,
        )


class KindRegistry:
    """Item kinds by IR kind name (``auto``, ``callout``, ...)."""

    def __init__(self, kinds: Mapping[str, ItemKind] | None = None) -> None:
        self._kinds: dict[str, ItemKind] = dict(kinds or {})

    def register(self, name: str, kind: ItemKind) -> None:
        """Add or replace the implementation of one kind (before the runtime runs)."""
        self._kinds[name] = kind

    def get(self, name: str) -> ItemKind:
        found = self._kinds.get(name)
        if found is None:
            found = self._kinds[name] = UnsupportedKind(name)
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._kinds and not isinstance(self._kinds[name], UnsupportedKind)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._kinds))

    def close(self) -> None:
        for kind in self._kinds.values():
            kind.close()

    async def aclose(self) -> None:
        """Release every kind's loop-bound resources (see :meth:`ItemKind.aclose`)."""
        for kind in list(self._kinds.values()):
            await kind.aclose()
