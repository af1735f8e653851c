"""Who hears of which events: hub registrations (TMF ``POST /hub``) and the listener URLs an
order names itself (``notify`` in a native order).

A registration has a callback URL and an optional TMF-style ``query`` that filters events, e.g.
``eventType=ProductOrderStateChangeEvent&state=completed`` (``state`` may be written
``productOrder.state``, ``id`` ``productOrder.id``; several values are separated by commas).
URLs are user input: only http(s) URLs without credentials are accepted, and they are persisted
next to the orders so that registrations survive restarts.

There are two hubs, one per API (:class:`HubApi`): TMF622's (order events, table
``subscriptions``) and TMF637's (product events, table ``product_subscriptions``, filtered on
``eventType``, ``status``/``product.status`` and ``id``/``product.id``).  Each registration is
in one of them only: a TMF622 listener never receives a product event it cannot parse, and an
older om_dsl, which reads only ``subscriptions``, never sends order events to a TMF637 one.
"""

from __future__ import annotations

import builtins
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from om_dsl.errors import NotFound
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.downstream.urls import check_listener_url
from om_dsl.runtime.notify import cancels
from om_dsl.runtime.notify.tmf import EVENT_TYPES
from om_dsl.runtime.notify.tmf637 import PRODUCT_EVENT_TYPES, PRODUCT_STATUSES
from om_dsl.runtime.states import OrderState

MAX_QUERY_CHARS = 1000
CACHE_S = 2.0


@dataclass(frozen=True, slots=True)
class HubApi:
    """One API's hub: where its registrations are kept and what their queries filter on."""

    name: str
    table: str
    fields: Mapping[str, str]
    """A query's field -> what it filters (``event_type``, ``state``, ``subject``: the id of
    the order, or of the product, the event is about)."""
    known: Mapping[str, frozenset[str]]
    """The values a filter can match (ids are open)."""
    known_as: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Spellings narrower than their field."""


ORDERING = HubApi(
    "TMF622",
    "subscriptions",
    {
        "eventType": "event_type",
        "state": "state",
        "productOrder.state": "state",
        "id": "subject",
        "productOrder.id": "subject",
    },
    {
        "event_type": frozenset((*EVENT_TYPES.values(), *cancels.EVENT_TYPES)),
        "state": frozenset((*(state.value for state in OrderState), *cancels.TASK_STATES)),
    },
    {"productOrder.state": frozenset(state.value for state in OrderState)},
)
"""TMF622's hub.  A cancel request's event has the request's state (``inProgress``, ``done``,
``terminatedWithError``) and its order's id; ``productOrder.state`` names an order's state
only."""
INVENTORY = HubApi(
    "TMF637",
    "product_subscriptions",
    {
        "eventType": "event_type",
        "status": "state",
        "product.status": "state",
        "id": "subject",
        "product.id": "subject",
    },
    {"event_type": PRODUCT_EVENT_TYPES, "state": PRODUCT_STATUSES},
)
"""TMF637's hub: product events, filtered on the product's status and id."""
HUB_APIS = (ORDERING, INVENTORY)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The parsed ``query`` of a registration: each field, when given, must match."""

    event_type: frozenset[str] | None = None
    state: frozenset[str] | None = None
    subject: frozenset[str] | None = None
    """The ids of the orders (TMF622) or products (TMF637) the listener hears of."""

    @classmethod
    def parse(cls, query: str | None, api: HubApi = ORDERING) -> EventFilter:
        """Raises ValueError for a field ``api``'s hub cannot filter on, or a malformed
        query."""
        if not query:
            return cls()
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"a hub query may have at most {MAX_QUERY_CHARS} characters")
        fields: dict[str, frozenset[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True, strict_parsing=True):
            if name not in api.fields:
                known = ", ".join(sorted(api.fields))
                raise ValueError(f"a hub query cannot filter on '{name}' (it can on: {known})")
            values = frozenset(v.strip() for v in value.split(",") if v.strip())
            _check_values(name, values, api.known_as.get(name, api.known.get(api.fields[name])))
            fields[api.fields[name]] = values
        return cls(**fields)

    def matches(self, event_type: str, state: str | None, subject: str) -> bool:
        return (
            (self.event_type is None or event_type in self.event_type)
            and (self.state is None or state in self.state)
            and (self.subject is None or subject in self.subject)
        )


def _check_values(name: str, given: frozenset[str], known: frozenset[str] | None) -> None:
    """A filter that names no value, or a value that never occurs, would make a listener
    that never hears anything, which nobody can tell from a quiet system: refused."""
    unknown = sorted(given - known) if known is not None else []
    if given and not unknown:
        return
    problem = f"unknown {name} {', '.join(unknown)}" if unknown else f"{name} without a value"
    hint = f"; use {', '.join(sorted(known))}" if known is not None else ""
    raise ValueError(f"the query can never match: {problem}{hint}")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A registered listener (TMF ``EventSubscription``: ``id``, ``callback``, ``query``)."""

    id: str
    callback: str
    query: str | None
    order_id: str | None
    """Set for the listeners an order named itself: they hear only of that order."""
    created_at: float

    def to_tmf(self) -> dict[str, str]:
        found = {"id": self.id, "callback": self.callback}
        if self.query:
            found["query"] = self.query
        return found


class Hub:
    """``runtime.hub`` (TMF622) and ``runtime.product_hub`` (TMF637, ``api``
    :data:`INVENTORY`): register and unregister listeners; thread-safe, persisted."""

    def __init__(
        self,
        side: SideDb,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
        before_listening: Callable[[], None] = lambda: None,
        api: HubApi = ORDERING,
    ) -> None:
        self.api = api
        self._table = api.table
        self._side = side
        self._on_change = on_change
        self._before_listening = before_listening
        """Called before a listener for every order is added: the events so far go to the
        listeners there were, so the new one hears what happens from now on (the notifier's
        ``catch_up``), not the whole history of the store."""
        self._clock = clock
        self._global: builtins.list[tuple[Subscription, EventFilter]] | None = None
        self._loaded_at = 0.0

    def register(self, callback: str, query: str | None = None) -> str:
        """Register a listener for the events of every order; returns its id.

        Raises:
            ValueError: the URL or the query is not acceptable (an HTTP 400).
        """
        url = check_listener_url(callback)
        EventFilter.parse(query, self.api)
        sub_id = secrets.token_hex(8)
        self._before_listening()
        self._insert([(sub_id, url, query or None, None)])
        return sub_id

    def unregister(self, sub_id: str) -> None:
        """Raises NotFound for an unknown id."""
        with self._side.write() as db:
            gone = db.execute(f"DELETE FROM {self._table} WHERE id = ?", (sub_id,)).rowcount
        if not gone:
            raise NotFound(f"no hub registration {sub_id}")
        self._global = None

    def get(self, sub_id: str) -> Subscription:
        rows = self._side.query(f"SELECT {_COLUMNS} FROM {self._table} WHERE id = ?", (sub_id,))
        if not rows:
            raise NotFound(f"no hub registration {sub_id}")
        return Subscription(*rows[0])

    def list(self) -> list[Subscription]:
        """Hub registrations (not the listeners orders named themselves)."""
        rows = self._side.query(
            f"SELECT {_COLUMNS} FROM {self._table} WHERE order_id IS NULL ORDER BY created_at, id"
        )
        return [Subscription(*row) for row in rows]

    def register_order(self, order_id: str, urls: Iterable[str]) -> None:
        """The listeners an order names, replacing the ones it had, in one transaction (at
        submit, any earlier registration under its id is a leftover; an amendment's
        ``notify`` replaces the order's, and no event may find it with none).

        Raises:
            ValueError: one of the URLs is not acceptable.
        """
        checked = [check_listener_url(url) for url in dict.fromkeys(urls)]
        rows: builtins.list[tuple[str, str, str | None, str | None]] = [
            (secrets.token_hex(8), url, None, order_id) for url in checked
        ]
        self._insert(rows, replacing=order_id)

    def order_listeners(self, order_id: str) -> builtins.list[str]:
        """The listener URLs an order named (not the hub's)."""
        rows = self._side.query(
            f"SELECT url FROM {self._table} WHERE order_id = ? ORDER BY created_at, id", (order_id,)
        )
        return [row[0] for row in rows]

    def drop_order(self, order_id: str) -> None:
        """Forget an order's own listeners (its submission failed)."""
        with self._side.write() as db:
            db.execute(f"DELETE FROM {self._table} WHERE order_id = ?", (order_id,))

    def count(self) -> int:
        return int(self._side.query(f"SELECT COUNT(*) FROM {self._table}")[0][0])

    def targets(self, event_type: str, state: str | None, subject: str) -> builtins.list[str]:
        """The URLs that must hear of this event about the order (TMF622) or the product
        (TMF637) ``subject``, each once: hub registrations, and an order's own listeners."""
        urls = [
            sub.callback
            for sub, wanted in self._globals()
            if wanted.matches(event_type, state, subject)
        ]
        if self.api is ORDERING:
            urls.extend(self.order_listeners(subject))
        return list(dict.fromkeys(urls))

    def _globals(self) -> builtins.list[tuple[Subscription, EventFilter]]:
        """Hub registrations, cached for a moment (another process may add some too)."""
        found = self._global
        if found is None or time.monotonic() - self._loaded_at > CACHE_S:
            found = self._global = [(s, _filter(s.query, self.api)) for s in self.list()]
            self._loaded_at = time.monotonic()
        return found

    def _insert(
        self,
        rows: builtins.list[tuple[str, str, str | None, str | None]],
        replacing: str | None = None,
    ) -> None:
        if not rows and replacing is None:
            return
        now = self._clock()
        with self._side.write() as db:
            if replacing is not None:
                db.execute(f"DELETE FROM {self._table} WHERE order_id = ?", (replacing,))
            db.executemany(
                f"INSERT INTO {self._table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                [(*row, now) for row in rows],
            )
        self._global = None
        self._on_change()


_COLUMNS = "id, url, query, order_id, created_at"


def _filter(query: str | None, api: HubApi) -> EventFilter:
    try:
        return EventFilter.parse(query, api)
    except ValueError:  # stored before a stricter parser: hear nothing rather than everything
        return EventFilter(event_type=frozenset())
