"""The asyncio side of the runtime: start ready items, collect outcomes, sleep until needed.

One loop iteration (a *step*) applies the outcomes gathered since the last step, fires due
timers, marks as many ready items ``running`` as the concurrency limit allows, commits all of
that in one transaction, and only then starts the items.  So the ``running`` mark (and a point
of no return) is durable before any item's code runs, and a crash at any moment loses nothing
that was acknowledged.  Items whose kind can finish on the spot (milestones, inline handlers)
complete without an asyncio task.

A *watch* (:attr:`Scheduler.watch`) looks at the world at every step too, for what changes
without waking the loop: a system's switch flipped by another process (see
:class:`~om_dsl.runtime.downstream.systems.OnlineWatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from functools import partial

from om_dsl.errors import OmError
from om_dsl.runtime.engine import Engine, Start
from om_dsl.runtime.kinds.base import KindRegistry
from om_dsl.runtime.outcomes import Failed, Outcome, kept_reason, raised
from om_dsl.runtime.states import ItemState

TaskKey = tuple[str, int, int]
"""(order id, item idx, attempt)."""
log = logging.getLogger("om_dsl.runtime")
WATCH_RETRY_S = 1.0
"""When a watch raised (e.g. the store was busy), how soon it is called again."""


class Scheduler:
    def __init__(self, engine: Engine, kinds: KindRegistry, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.engine = engine
        self.kinds = kinds
        self.concurrency = concurrency
        self.outcomes: deque[tuple[str, int, int, Outcome]] = deque()
        self.tasks: dict[TaskKey, asyncio.Task[Outcome]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._started = threading.Event()
        self.watch: Callable[[], float | None] | None = None
        """Called at every step under the engine lock; it may move items (e.g. release held
        ones) and returns how many seconds from now it wants to be called again (the loop
        wakes then), or None when only a change in the runtime would give it work."""
        self._watch_in: float | None = None

    # ---- control from any thread ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.loop is not None

    def wake(self) -> None:
        """Have the loop take a step soon (safe from any thread, a no-op when not running)."""
        loop, wake = self.loop, self._wake
        if loop is None or wake is None:
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(wake.set)

    def request_stop(self) -> None:
        self._stopping = True
        self.wake()

    def wait_started(self, timeout: float) -> bool:
        return self._started.wait(timeout)

    # ---- the loop ---------------------------------------------------------------------------

    async def run(self, until_idle: bool = False) -> None:
        """Run until :meth:`request_stop` (or, with ``until_idle``, until nothing can move)."""
        if self.loop is not None:
            raise OmError("the runtime is already running")
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._stopping = False
        try:
            with self.engine.lock:
                resumed = self.engine.recover()
            log.info("resumed %d unfinished order(s) from the store", resumed)
            self.engine.listeners.deliver()
            self._started.set()
            await self._loop(until_idle)
        finally:
            await self._shutdown()

    async def _loop(self, until_idle: bool) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            progressed = self._step()
            if until_idle and self._idle():
                return
            if progressed:
                await asyncio.sleep(0)
            else:
                await self._sleep()

    def _step(self) -> bool:
        engine = self.engine
        with engine.lock:
            if engine.unstored:  # a commit failed: take those orders back from the store
                engine.reload_unstored()
            applied = len(self.outcomes)
            while self.outcomes:
                engine.apply(*self.outcomes.popleft())
            engine.fire_timers(engine.clock())
            self._stop_timed_out()
            self._watch_in = self._call_watch()
            room = self.concurrency - engine.counts[ItemState.RUNNING]
            starts = engine.take_ready(room) if room > 0 else []
            engine.flush()
        engine.listeners.deliver()
        for start in starts:
            self._launch(start)
        return bool(applied or starts)

    def _call_watch(self) -> float | None:
        """The watch's next wake-up; a watch that raised is logged and tried again later (the
        loop must go on: the store may only be busy)."""
        if self.watch is None:
            return None
        try:
            return self.watch()
        except Exception:
            log.warning("a runtime watch failed; it is tried again", exc_info=True)
            return WATCH_RETRY_S

    def _launch(self, start: Start) -> None:
        order_id, idx, attempt, kind_name, ctx = start
        kind = self.kinds.get(kind_name)
        try:
            outcome = kind.start_now(ctx)
        except Exception as exc:  # a kind's bug fails the attempt, not the runtime
            outcome = _failed(f"starting the {kind_name} item raised {raised(exc)}")
        if outcome is not None:
            self.outcomes.append((order_id, idx, attempt, outcome))
            return
        assert self.loop is not None
        key = (order_id, idx, attempt)
        task = self.loop.create_task(kind.start(ctx), name=f"om:{ctx.item_id}")
        self.tasks[key] = task
        task.add_done_callback(partial(self._done, key, kind_name))

    def _done(self, key: TaskKey, kind: str, task: asyncio.Task[Outcome]) -> None:
        self.tasks.pop(key, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            outcome: Outcome = _failed(f"the {kind} item raised {raised(exc)}")
        else:
            outcome = task.result()
        self.outcomes.append((*key, outcome))
        if self._wake is not None:
            self._wake.set()

    def _save_outcomes(self) -> None:
        """Commit what finished before the stop, so it is not re-attempted at the next run."""
        try:
            with self.engine.lock:
                while self.outcomes:
                    self.engine.apply(*self.outcomes.popleft())
                self.engine.flush()
            self.engine.listeners.deliver()
        finally:
            self.outcomes.clear()

    def _stop_timed_out(self) -> None:
        for key in self.engine.stop_tasks:
            task = self.tasks.pop(key, None)
            if task is not None:
                task.cancel()
        self.engine.stop_tasks.clear()

    def _idle(self) -> bool:
        return not self.outcomes and not self.tasks and self.engine.idle()

    async def _sleep(self) -> None:
        assert self._wake is not None and self.loop is not None
        due = self.engine.timers.next_due()
        delays = [] if self._watch_in is None else [self._watch_in]
        if due is not None:
            delays.append(max(0.0, due - self.engine.clock()))
        handle = None
        if delays:
            handle = self.loop.call_later(min(delays), self._wake.set)
        await self._wake.wait()
        if handle is not None:
            handle.cancel()

    async def _shutdown(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        self._save_outcomes()
        self.loop = None
        self._wake = None
        self._watch_in = None
        self._loop_thread = None
        self._started.clear()


def _failed(reason: str) -> Failed:
    """A kind that raised (a host's own kind, or a host's exception that escaped one): its
    text, one line and cut as a handler's is, since the store and every view keep it."""
    return Failed(kept_reason(reason))
