"""``auto`` items: call the host's handler registered under the item's handler name.

A handler's exception becomes the item's reason, which the store, the event log, ``om``
and the service show.  A host's code may well hold a system's credential (it calls the
system itself), so the text is redacted of every catalog credential, as a downstream answer
is, made one line and kept to :data:`REASON_CHARS` characters
(:func:`~om_dsl.runtime.outcomes.kept_reason`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream.auth import catalog_secrets
from om_dsl.runtime.downstream.redaction import redact
from om_dsl.runtime.handlers import HandlerRegistry, PermanentFailure
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.runtime.kinds.threads import HandlerThreads
from om_dsl.runtime.outcomes import Completed, Failed, Outcome, kept_reason, message_of, raised


class AutoKind(ItemKind):
    """Sync handlers run in a bounded thread pool (the loop never blocks); async ones are
    awaited on the loop.  The pool knows which items' handlers run in it, so that a runtime
    that stops can say which still do (:meth:`running`)."""

    def __init__(
        self,
        handlers: HandlerRegistry,
        max_threads: int = 16,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.handlers = handlers
        self.max_threads = max_threads
        self.environ: Mapping[str, str] = environ if environ is not None else os.environ
        self._pool: HandlerThreads | None = None

    def start_now(self, ctx: ItemContext) -> Outcome | None:
        """Unknown handlers fail and inline handlers run right here; others need a task."""
        handler = self.handlers.get(ctx.spec.handler)
        if handler is None:
            return Failed(f"no handler is registered for '{ctx.spec.handler}'", permanent=True)
        if not handler.inline:
            return None
        try:
            return _outputs(handler.name, handler.fn(ctx))
        except Exception as exc:  # the host's code failed: a failed attempt, maybe retried
            return self._failure(ctx, handler.name, exc)

    async def start(self, ctx: ItemContext) -> Outcome:
        immediate = self.start_now(ctx)
        handler = self.handlers.get(ctx.spec.handler)
        if immediate is not None or handler is None:
            return immediate or Failed(f"no handler for '{ctx.spec.handler}'", permanent=True)
        try:
            if handler.is_async:
                result = await handler.fn(ctx)
            else:
                pool = self._executor()
                label = f"order {ctx.order_id} item {ctx.item_id} (handler '{handler.name}')"
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(pool, pool.call, label, handler.fn, ctx)
        except Exception as exc:  # the host's code failed: a failed attempt, maybe retried
            return self._failure(ctx, handler.name, exc)
        return _outputs(handler.name, result)

    def _failure(self, ctx: ItemContext, name: str, exc: Exception) -> Failed:
        permanent = isinstance(exc, PermanentFailure)
        said = f"{name}: {message_of(exc)}" if permanent else f"{name} raised {raised(exc)}"
        clean = kept_reason(redact(said, catalog_secrets(ctx.catalog, self.environ)))
        return Failed(clean, permanent=permanent)

    def _executor(self) -> HandlerThreads:
        if self._pool is None:
            self._pool = HandlerThreads(self.max_threads)
        return self._pool

    def running(self, wait: float = 0.0) -> list[str]:
        """The sync handlers that run now (``order item (handler), for N s``), after waiting
        up to ``wait`` seconds for them to return.  A stopped runtime no longer waits for
        their outcome, but Python cannot stop a thread."""
        pool = self._pool
        if pool is None or pool.wait_idle(wait):
            return []
        return [f"{label} for {seconds:.1f} s" for label, seconds in pool.running()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _outputs(name: str, result: Any) -> Outcome:
    if result is None:
        return Completed({})
    if not isinstance(result, Mapping):
        return Failed(
            f"{name} returned {type(result).__name__}; a handler returns a dict of outputs or None",
            permanent=True,
        )
    return Completed(result)
