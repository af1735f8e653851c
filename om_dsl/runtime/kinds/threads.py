"""The threads sync handlers run in: a bounded pool of daemon threads that knows what runs.

Not :class:`concurrent.futures.ThreadPoolExecutor`: the interpreter joins its threads when it
exits, so a handler that hung kept a process alive after its runtime had stopped and closed,
silently, until the handler returned.  A thread cannot be stopped, and a stopped runtime
re-attempts its items in flight at the next run anyway (with the same idempotency key), so
these threads do not hold the exit: the runtime's ``stop`` names the handlers that still run
(an :class:`~om_dsl.errors.OmError`), and an exit that leaves some behind logs them.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

log = logging.getLogger("om_dsl.runtime")
P = ParamSpec("P")
T = TypeVar("T")
IDLE_POLL_S = 0.01
_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class HandlerThreads(Executor):
    """Up to ``max_threads`` daemon threads, started as work comes; idle ones take new work.

    ``running()`` says what runs now: the label given with each call (:meth:`call`).
    """

    def __init__(self, max_threads: int, name: str = "om-handler") -> None:
        self._max = max_threads
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._running: dict[int, tuple[str, float]] = {}
        """Thread id -> what it runs and since when.  Each thread writes only its own entry,
        and a dict's item assignment is atomic: no lock on the path of every handler."""
        self._closed = False
        _ALIVE.add(self)
        # a pool dropped without shutdown lets its idle threads end too
        weakref.finalize(self, _end_threads, self._queue, self._threads)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the handler threads are shut down")
            self._queue.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max:
                self._start_thread()
        return future

    def call(self, label: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in this thread, known as ``label`` while it runs."""
        key = threading.get_ident()
        self._running[key] = (label, time.monotonic())
        try:
            return fn(*args)
        finally:
            del self._running[key]

    def running(self) -> list[tuple[str, float]]:
        """What runs now: (label, seconds it has run), longest first."""
        now = time.monotonic()
        found = [(label, now - since) for label, since in self._running.copy().values()]
        return sorted(found, key=lambda entry: -entry[1])

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until nothing runs; whether nothing does (read
        every :data:`IDLE_POLL_S`: only a stopping runtime waits)."""
        deadline = time.monotonic() + timeout
        while self._running:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, IDLE_POLL_S))
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work; queued work is cancelled, running work goes on (a thread
        cannot be stopped) and its thread ends after it.  ``wait`` joins the threads."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        _end_threads(self._queue, threads)
        if wait:
            for thread in threads:
                thread.join()

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=_work,
            args=(self._queue, self._idle),
            name=f"{self._name}-{len(self._threads)}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)


def _work(work_queue: queue.SimpleQueue[_Work | None], idle: threading.Semaphore) -> None:
    """A thread's life: run work until told to stop (None), saying when it is idle."""
    while (work := work_queue.get()) is not None:
        future, fn, args, kwargs = work
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)
        del work, future, fn, args, kwargs
        idle.release()


def _end_threads(work_queue: queue.SimpleQueue[_Work | None], threads: list[Any]) -> None:
    """Tell each thread to end once it is idle (what runs goes on to its end)."""
    for _ in threads:
        work_queue.put(None)


_ALIVE: weakref.WeakSet[HandlerThreads] = weakref.WeakSet()


@atexit.register
def _say_what_is_left() -> None:
    """A process that exits while handlers run does not wait for them (their items are
    re-attempted at the next run), but it says so: the host may not have been told."""
    for threads in list(_ALIVE):
        left = threads.running()
        if left:
            log.warning(
                "the process exits while %d sync handler(s) still run: %s; their items are "
                "re-attempted at the next run",
                len(left),
                ", ".join(label for label, _ in left),
            )
