"""``auto`` items: call the host's handler registered under the item's handler name.

A handler's exception becomes the item's reason, which the store, the event log, ``om``
and the service show.  A host's code may well hold a system's credential (it calls the
system itself), so the text is redacted of every catalog credential, as a downstream answer
is, and kept to :data:`REASON_CHARS` characters.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from om_dsl.runtime.context import ItemContext
from om_dsl.runtime.downstream.auth import catalog_secrets
from om_dsl.runtime.downstream.redaction import redact, shorten
from om_dsl.runtime.handlers import HandlerRegistry, PermanentFailure
from om_dsl.runtime.kinds.base import ItemKind
from om_dsl.runtime.outcomes import (
    REASON_CHARS,
    Completed,
    Failed,
    Outcome,
    message_of,
    raised,
)


class AutoKind(ItemKind):
    """Sync handlers run in a bounded thread pool (the loop never blocks); async ones are
    awaited on the loop."""

    def __init__(
        self,
        handlers: HandlerRegistry,
        max_threads: int = 16,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.handlers = handlers
        self.max_threads = max_threads
        self.environ: Mapping[str, str] = environ if environ is not None else os.environ
        self._pool: ThreadPoolExecutor | None = None

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
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._executor(), handler.fn, ctx)
        except Exception as exc:  # the host's code failed: a failed attempt, maybe retried
            return self._failure(ctx, handler.name, exc)
        return _outputs(handler.name, result)

    def _failure(self, ctx: ItemContext, name: str, exc: Exception) -> Failed:
        permanent = isinstance(exc, PermanentFailure)
        said = f"{name}: {message_of(exc)}" if permanent else f"{name} raised {raised(exc)}"
        clean = shorten(redact(said, catalog_secrets(ctx.catalog, self.environ)), REASON_CHARS)
        return Failed(clean, permanent=permanent)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_threads, thread_name_prefix="om-handler")
        return self._pool

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
