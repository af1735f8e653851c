"""Delivering order events to listeners: at least once, persisted, in a thread of its own.

The event log is the source: the notifier reads it after its cursor, turns order events into
TMF622 events, adds one outbox row per listener URL (hub registrations, the order's own
``notify`` URLs, the runtime's configured URLs) and moves its cursor, then POSTs due rows.  A
2xx answer delivers a row; anything else (a refused connection, a timeout, a 5xx, a malformed
URL) schedules a retry with exponential backoff, until ``max_attempts``.  Every attempt is
recorded in the event log (``notify.delivered``, ``notify.failed``, ``notify.abandoned``).  A
crash loses nothing: unread events are read again, and pending rows are retried after restart.

It runs in its own thread with its own event loop, so a slow or hostile listener never slows
the orders down; it starts only when there is someone to tell.  In-process subscribers
(``subscribe(fn)``) get each event when it is read from the log, in the notifier's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from om_dsl.logfields import fields
from om_dsl.oneline import one_line, shorten
from om_dsl.runtime.downstream import egress
from om_dsl.runtime.downstream.http import ssl_context
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.downstream.urls import check_listener_url, shown
from om_dsl.runtime.events import (
    CANCEL_REJECTED,
    ORDER_AMENDED,
    ORDER_CREATED,
    ORDER_STATE,
    Act,
    LifecycleEvent,
    Listener,
    discard,
)
from om_dsl.runtime.notify import cancels
from om_dsl.runtime.notify.hub import Hub
from om_dsl.runtime.notify.outbox import (
    STATES,
    Delivery,
    NewRow,
    Notification,
    Outbox,
    OutboxRow,
    Wanted,
)
from om_dsl.runtime.notify.signing import SIGNATURE_HEADER, secret_from, sign
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.notify.tmf637 import ProductEvents
from om_dsl.runtime.store.base import EventRow, NewEvent, Store, WriteBatch
from om_dsl.runtime.store.product_log import PRODUCT_KINDS
from om_dsl.runtime.store.prune import NOTIFY_CURSOR

log = logging.getLogger("om_dsl.notify")
CURSOR = NOTIFY_CURSOR
"""The notifier's position in the event log (a prune keeps the orders of events after it)."""
NOTIFY_DELIVERED = "notify.delivered"
NOTIFY_FAILED = "notify.failed"
NOTIFY_ABANDONED = "notify.abandoned"
NOTIFY_REPLAYED = "notify.replayed"
ORDER_EVENTS = frozenset({ORDER_CREATED, ORDER_STATE, ORDER_AMENDED, CANCEL_REJECTED})
"""Event-log rows that make TMF622 events (a rejected cancel request makes only its own)."""
TMF_EVENTS = ORDER_EVENTS | PRODUCT_KINDS
"""...and TMF637 events (the inventory's rows: :mod:`om_dsl.runtime.store.product_log`)."""
READ_BATCH = 1000
ANSWER_BYTES = 64 * 1024
Subscriber = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class NotifySettings:
    """How notifications are delivered.

    Attributes:
        urls: listener URLs that hear of every order's events.
        max_attempts: attempts per notification before it is abandoned.
        backoff_ms: the delay before the first retry; it doubles up to ``backoff_cap_ms``.
        timeout_s: how long one delivery may take, all included.
        concurrency: deliveries in flight at once.
        poll_s: how often the event log is read when nothing wakes the notifier.
        href_base: the base of ``productOrder.href`` (e.g. the TMF622 URL of a host that
            serves the orders); the service (``create_app``) sets its own URL instead.
        signing_secret_env: the name of the environment variable that holds the secret every
            delivery is signed with (``X-Om-Signature``, see :mod:`.signing`); None: unsigned.
    """

    urls: tuple[str, ...] = ()
    max_attempts: int = 12
    backoff_ms: int = 500
    backoff_cap_ms: int = 300_000
    timeout_s: float = 5.0
    concurrency: int = 16
    poll_s: float = 0.25
    href_base: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    signing_secret_env: str | None = None


class Notifier:
    """``runtime.notifications``."""

    def __init__(
        self,
        store: Store,
        side: SideDb,
        hub: Hub,
        settings: NotifySettings,
        add_listener: Callable[[Listener], Callable[[], None]],
        clock: Callable[[], float] = time.time,
        product_hub: Hub | None = None,
    ) -> None:
        self.settings = settings
        env = settings.signing_secret_env
        self._secret = secret_from(env) if env else None  # SigningError now, not per delivery
        self._store = store
        self._hub = hub
        self._product_hub = product_hub
        """TMF637 registrations: the only listeners of product events (none: nobody's)."""
        self._side = side
        self._outbox = Outbox(side)
        self._views = OrderViews(store, settings.href_base)
        self.products = ProductEvents(store)
        """The TMF637 events of the inventory's rows (the service sets their hrefs)."""
        self._urls = [check_listener_url(u) for u in settings.urls]
        self._subscribers: list[Subscriber] = []
        self._add_listener = add_listener
        self._remove_listener: Callable[[], None] | None = None
        self._clock = clock
        self._read_lock = threading.Lock()
        self._state = threading.Lock()
        self._enabled = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._inflight = 0

    # ---- configuration ------------------------------------------------------------------------

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(self._urls)

    @property
    def views(self) -> OrderViews:
        """The TMF622 views events are made of (``settings.href_base`` is their first href
        base).  A host that also shows orders (the service) shows these same views, and sets
        their ``href_base`` to its URL: its answers and the events then agree."""
        return self._views

    def add_url(self, url: str) -> None:
        """Have every order's events delivered to ``url`` too (raises ValueError if unfit)."""
        checked = check_listener_url(url)
        if checked not in self._urls:
            self._urls.append(checked)
        self.changed()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(event)`` with each TMF event (in the notifier's thread; keep it quick).
        Returns the function that unsubscribes."""
        self._subscribers.append(fn)
        self.changed()
        return lambda: discard(self._subscribers, fn)

    # ---- running ------------------------------------------------------------------------------

    def enable(self) -> None:
        """The runtime runs: deliver from now on (the thread starts when there are targets)."""
        self._enabled = True
        self.changed()

    def changed(self) -> None:
        """Targets may have appeared: start if enabled, and look at the log now."""
        if self._enabled and self._has_targets():
            self.start()
        self.wake()

    def start(self) -> None:
        with self._state:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            started = threading.Event()
            self._thread = threading.Thread(
                target=self._main, args=(started,), name="om-notify", daemon=True
            )
            self._thread.start()
        started.wait(5.0)
        if self._remove_listener is None:
            self._remove_listener = self._add_listener(self._hear)

    def stop(self, timeout: float = 10.0) -> None:
        with self._state:
            thread, self._thread = self._thread, None
            self._stopping = True
        self.wake()
        if thread is not None:
            thread.join(timeout)
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    def wake(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(wake.set)

    def drain(self, timeout: float = 10.0) -> bool:
        """Block until every event so far is delivered (or abandoned); False on timeout."""
        if self._has_targets():
            self.start()
        deadline = time.monotonic() + timeout
        while True:
            self.read_log()
            if self._outbox.pending() == 0 and self._inflight == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            self.wake()
            time.sleep(0.02)

    # ---- reading ------------------------------------------------------------------------------

    def pending(self) -> int:
        return self._outbox.pending()

    def deliveries(self, order_id: str | None = None) -> list[Delivery]:
        return self._outbox.deliveries(order_id)

    def counts(self) -> dict[str, int]:
        """Notifications by state: ``pending``, ``delivered``, ``abandoned``."""
        return self._outbox.counts()

    def listed(
        self,
        state: str | None = None,
        order_id: str | None = None,
        listener: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Notification], int]:
        """One page of the outbox's notifications (oldest first) and how many match:
        ``state`` (``pending``, ``delivered``, ``abandoned``), an order, a listener (its URL,
        or the URL as logs show it: see :func:`named`).

        Raises:
            ValueError: an unknown ``state`` (the message lists them).
        """
        wanted = Wanted(_state(state), order_id, self._named(listener))
        return self._outbox.listed(wanted, offset, limit)

    def retry_abandoned(
        self,
        order_id: str | None = None,
        listener: str | None = None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Deliver again the abandoned notifications of an order and/or a listener (all of
        them without either), with fresh attempts; returns how many.

        A listener down longer than the backoff's attempts (12, about 15 minutes) lost those
        events for good.  The rows become pending and due now, keeping their event (its
        ``eventId`` too, so a listener drops one it had); the notifier of the process that
        runs the store reads the outbox at each step (every ``poll_s`` at most), and one that
        does not run sends them when the store runs next.  Each order's log gets one
        ``notify.replayed`` row that says how many, who and why.

        Raises:
            InvalidAct: ``by`` or ``reason`` cannot be kept in the log; nothing changed.
        """
        act = Act(by or None, reason or None)
        with self._side.joint_write():  # the rows replayed and their log rows: one write
            wanted = Wanted(None, order_id, self._named(listener))
            counts = self._outbox.replay(wanted, self._clock())
            now = self._clock()
            rows: list[NewEvent] = [(now, order, None, NOTIFY_REPLAYED, None, None, None,
                     act.words(f"{n} abandoned notification(s) sent again"), act.by,
                     act.reason) for order, n in counts.items()]  # fmt: skip
            if rows:
                self._store.apply(WriteBatch(events=rows))
        if rows:
            self.changed()
        return sum(counts.values())

    def _named(self, listener: str | None) -> list[str] | None:
        """The outbox's URLs that ``listener`` names (None: no listener given)."""
        if listener is None:
            return None
        return [url for url in self._outbox.urls() if listener in named(url)]

    def product_order(self, order_id: str) -> dict[str, Any] | None:
        """The order as TMF622 shows it (what events carry), or None."""
        return self._views.product_order(order_id)

    # ---- the event log -> the outbox ----------------------------------------------------------

    def read_log(self, deliver: bool = True) -> int:
        """Turn order events after the cursor into outbox rows; returns how many events.
        Without ``deliver`` the cursor only moves past them."""
        with self._read_lock:
            cursor, seen = self._store.get_cursor(CURSOR), 0
            while True:
                rows = self._store.events(after_seq=cursor, limit=READ_BATCH)
                if not rows:
                    return seen
                for row in rows:  # the plan changed: the views read it again
                    if row.kind == ORDER_AMENDED:
                        self._views.forget(row.order_id)
                if deliver:
                    self._enqueue([r for r in rows if r.kind in TMF_EVENTS])
                cursor = rows[-1].seq
                self._store.set_cursor(CURSOR, cursor)
                seen += len(rows)

    def catch_up(self) -> None:
        """Before a listener is added: the events so far go to the listeners there were, and
        when there were none the cursor just moves past them.  A first `POST /hub` on a store
        with a history used to receive every event since the store was made."""
        self.read_log(deliver=self._has_targets())

    def _enqueue(self, rows: list[EventRow]) -> None:
        new: list[NewRow] = []
        for row in rows:
            new += self._product_rows(row) if row.kind in PRODUCT_KINDS else self._order_rows(row)
        if new:
            self._outbox.add(new, self._clock())

    def _order_rows(self, row: EventRow) -> list[NewRow]:
        """The outbox rows of the TMF622 events of ``row``; subscribers hear of them."""
        new: list[NewRow] = []
        for event in self._views.events(row):
            text = json.dumps(event, separators=(",", ":"))
            kind = event["eventType"]
            # the order's state (an amendment's too), or the cancel request's
            (resource,) = event["event"].values()
            state = resource.get("state")
            # (event_seq, url) is unique: a cancel's event counts apart from the order's
            key = -row.seq if kind in cancels.EVENT_TYPES else row.seq
            for url in self._targets(kind, state, row.order_id):
                new.append(NewRow(key, url, row.order_id, kind, state, text))
            if self._subscribers:
                self._tell_subscribers(text)
        return new

    def _product_rows(self, row: EventRow) -> list[NewRow]:
        """The outbox rows of the TMF637 event of an inventory row: to TMF637 hub listeners
        only (the configured URLs, the orders' own listeners and the in-process subscribers
        hear TMF622 events, and could not read a product's).  Queued under the order that
        changed the product, and under the product (one product's events reach one URL in
        order, whichever orders changed it); the state they list is the product's status."""
        hub = self._product_hub
        event = self.products.event(row) if hub is not None else None
        if event is None or hub is None:
            return []
        text = json.dumps(event, separators=(",", ":"))
        kind, product = event["eventType"], event["event"]["product"]
        status = product["status"]
        urls = hub.targets(kind, status, product["id"])
        return [NewRow(row.seq, url, row.order_id, kind, status, text, str(product["id"]))
                for url in urls]  # fmt: skip

    def _targets(self, kind: str, state: str | None, order_id: str) -> list[str]:
        return list(dict.fromkeys([*self._urls, *self._hub.targets(kind, state, order_id)]))

    def _tell_subscribers(self, text: str) -> None:
        """Each subscriber gets its own copy of the event, read from its JSON text: a view
        shares the client's values with the views' cache (see :mod:`.tmf`), so a subscriber
        that changed the event in place would change what other subscribers and later events
        see."""
        for fn in list(self._subscribers):
            try:
                fn(json.loads(text))
            except Exception:  # an embedder's bug must not stop notifications
                log.exception("notification subscriber %r failed", fn)

    def _has_targets(self) -> bool:
        """Someone to tell: configured URLs, subscribers, hub listeners, or deliveries an
        earlier run left in the outbox (their URL is in the row, whatever this run was given)."""
        products = self._product_hub.count() if self._product_hub is not None else 0
        return bool(self._urls or self._subscribers or self._hub.count() or products
                    or self._outbox.pending())  # fmt: skip

    def _hear(self, event: LifecycleEvent) -> None:
        if event.kind in TMF_EVENTS:
            self.wake()

    # ---- the thread ---------------------------------------------------------------------------

    def _main(self, started: threading.Event) -> None:
        try:
            asyncio.run(self._run(started))
        except Exception:  # nowhere to raise to
            log.exception("the notifier stopped on an error")

    async def _run(self, started: threading.Event) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        tasks: set[asyncio.Task[None]] = set()
        busy: set[tuple[str, str]] = set()
        limits = httpx.Limits(max_connections=self.settings.concurrency)
        async with egress.client(self.settings.timeout_s, limits, ssl_context()) as client:
            try:
                while not self._stopping:
                    self._wake.clear()
                    self._step(client, tasks, busy)
                    await self._sleep(busy, full=len(tasks) >= self.settings.concurrency)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._loop = self._wake = None

    def _step(
        self, client: httpx.AsyncClient, tasks: set[asyncio.Task[None]], busy: set[tuple[str, str]]
    ) -> None:
        try:
            self.read_log()
            room = self.settings.concurrency - len(tasks)
            due = self._outbox.due(self._clock(), room + len(busy)) if room > 0 else []
        except Exception:  # the store is busy or closing: try again at the next step
            log.exception("reading the notification outbox failed")
            return
        for row in due:
            key = (row.url, row.order_id)
            if key in busy or len(tasks) >= self.settings.concurrency:
                continue
            busy.add(key)
            task = asyncio.get_running_loop().create_task(self._deliver(client, row))
            tasks.add(task)
            self._inflight = len(tasks)
            task.add_done_callback(partial(self._done, key=key, tasks=tasks, busy=busy))

    def _done(
        self,
        task: asyncio.Task[None],
        *,
        key: tuple[str, str],
        tasks: set[asyncio.Task[None]],
        busy: set[tuple[str, str]],
    ) -> None:
        tasks.discard(task)
        busy.discard(key)
        self._inflight = len(tasks)
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, busy: set[tuple[str, str]], full: bool) -> None:
        """Wait until a row may be sent, a delivery ends, something wakes the notifier, or
        ``poll_s`` has passed (to read the log).  A row is waited for only if the next step can
        send it: not a row queued behind its (URL, order)'s head, not a head in flight, nothing
        while every delivery slot is taken (a delivery that ends wakes the notifier).  Waiting
        for those, long due but not sendable, made this a loop at 100% CPU."""
        assert self._wake is not None
        delay = self.settings.poll_s
        due = None if full else self._outbox.next_due(busy)
        if due is not None:
            delay = max(0.0, min(delay, due - self._clock()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    # ---- one delivery -------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, row: OutboxRow) -> None:
        attempt, final = row.attempts + 1, False
        try:
            status = await self._post(client, row)
            error = None if 200 <= status < 300 else f"answered {status}"
        except egress.RefusedAddress as exc:  # its name resolves to a metadata address: given
            error, final = str(exc), True  # up at once, retried only when an operator says so
        except Exception as exc:  # a hostile or broken listener: a failed attempt, nothing more
            error = _failure(exc, self.settings.timeout_s, row.url)
        try:
            self._record(row, attempt, error, final)
        except Exception:  # the store is closing: the row stays pending, retried next time
            log.exception("recording a notification attempt failed")

    async def _post(self, client: httpx.AsyncClient, row: OutboxRow) -> int:
        headers = {"Content-Type": "application/json", **self.settings.extra_headers}
        body = row.event_json.encode()
        if self._secret is not None:  # signed at each attempt, with the time it is sent
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        async with asyncio.timeout(self.settings.timeout_s):
            async with client.stream("POST", row.url, content=body,
                                     headers=headers) as response:  # fmt: skip
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read > ANSWER_BYTES:
                        break
                return response.status_code

    def _record(self, row: OutboxRow, attempt: int, error: str | None, final: bool) -> None:
        """The outcome of an attempt: the outbox row's new state and its ``notify.*`` row of
        the event log, in one write (:meth:`SideDb.joint_write`).  They were two
        transactions: a crash between them left a row delivered without its event, or an
        event for a row still pending (sent again, and logged twice)."""
        now = self._clock()
        what = f"{row.event_type} ({row.state_to}) to {shown(row.url)}"
        abandoned = error is not None and (final or attempt >= self.settings.max_attempts)
        with self._side.joint_write():
            if error is None:
                self._outbox.delivered(row.id, attempt, now)
                kind, detail = NOTIFY_DELIVERED, f"{what}: delivered"
            elif abandoned:
                self._outbox.abandon(row.id, attempt, now, error)
                after = "not retried" if final else f"gave up after {attempt} attempts"
                kind, detail = NOTIFY_ABANDONED, f"{what}: {error}; {after}"
            else:
                delay = self._backoff(attempt)
                self._outbox.retry(row.id, attempt, now + delay, error)
                kind, detail = NOTIFY_FAILED, f"{what}: {error} (retry in {int(delay * 1000)} ms)"
            event = (now, row.order_id, None, kind, None, None, attempt, detail, None, None)
            self._store.apply(WriteBatch(events=[event]))
        if abandoned:  # a listener never hears of it: the one outcome an operator must learn
            named = fields(event="notification_abandoned", order_id=row.order_id,
                           event_type=row.event_type, attempt=attempt)  # fmt: skip
            log.warning("order %s: a notification was given up: %s", row.order_id, detail,
                        extra=named)  # fmt: skip

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        delay: float = min(s.backoff_cap_ms, s.backoff_ms * 2 ** (attempt - 1)) / 1000
        return delay * random.uniform(0.5, 1.0)


def named(url: str) -> tuple[str, str, str]:
    """The names a listener URL goes by: itself, and as logs and lists show it (no
    credentials, no query: ``https://crm.example/events?...``, or without the ``?...``),
    so that an operator can name a listener whose URL holds a token they cannot see."""
    short = shown(url)
    return url, short, short.removesuffix("?...")


def _state(state: str | None) -> str | None:
    if state is not None and state not in STATES:
        raise ValueError(f"unknown notification state {state!r}; the states: {', '.join(STATES)}")
    return state


def _failure(exc: Exception, timeout_s: float, url: str) -> str:
    """A failed attempt in words; the URL (which may carry a token in its query) is shortened,
    and the text made one line (it is kept, put in an event's detail and logged: a listener's
    error text with a newline forged a line there)."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    text = shorten(one_line(str(exc).replace(url, shown(url))), 200)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
