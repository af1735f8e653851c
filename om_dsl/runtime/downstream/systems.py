"""Downstream systems at run time: where they are, and whether they are online.

A system is offline when the catalog says so (``offline``) or an operator said so; the
operator's word is persisted in the store and wins over the catalog.  Callouts to an offline
system are put on hold under the key ``system:<name>`` instead of being sent; bringing the
system online releases them (they become ready and run).

Who releases them: only the runtime that runs the store may move its items (another process's
scheduler would never see them), so a switch flipped next to a running service (`om systems
online`) only writes the switch, and the running runtime's :class:`OnlineWatch` notices it and
releases its held callouts itself.
"""

from __future__ import annotations

import builtins
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from om_dsl.errors import NotFound
from om_dsl.ir import models as ir
from om_dsl.orders.issues import show
from om_dsl.runtime.downstream.state import SideDb
from om_dsl.runtime.events import MAX_REASON_CHARS, Act
from om_dsl.suggest import closest

log = logging.getLogger("om_dsl.runtime")
RECHECK_S = 1.0
"""How often a running runtime reads the switch of the systems it holds callouts for."""


def unset_variables_warning(unset: Iterable[str]) -> str | None:
    """What `om run`, `om resume` and `om serve` warn of at start for
    :meth:`Systems.unset_variables`, or None: one text for all three, as for handlers."""
    names = list(unset)
    if not names:
        return None
    return (
        f"environment variables that downstream systems need are not set: {', '.join(names)}; "
        "their callouts will fail"
    )


def hold_key(system: str) -> str:
    """The key a callout to an offline ``system`` is held under (``runtime.release(key)``)."""
    return f"system:{system}"


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """A system as operators see it (``runtime.systems.list()``, ``om systems list``)."""

    name: str
    display_name: str | None
    offline: bool
    source: str
    """Who decided: ``catalog`` or ``operator``."""
    changed_at: float | None
    changed_by: str | None
    reason: str | None = None
    """Why the operator flipped the switch last (``om systems offline --reason``)."""


class CalloutTally:
    """Callouts made since the process started, by system and outcome (``ok``: a 2xx
    answer; ``accepted``: a 202 whose callback will come; ``failed``: anything else, an
    unreachable system included): the counter ``GET /metrics`` shows.  Kept in memory
    only: a Prometheus counter starts again at a restart, and its reader expects that."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, system: str, outcome: str) -> None:
        with self._lock:
            self._counts[(system, outcome)] += 1

    def counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


class Systems:
    """The systems of the runtime's catalogs and their online/offline switch.

    Args:
        side: where operator decisions are persisted.
        catalogs: the catalogs whose systems are known (the runtime's, and those that stored
            orders are pinned to).
        release: makes the items held under a key ready again and returns how many, or
            returns None without moving any when another process runs the store (its runtime
            releases them, see :class:`OnlineWatch`).
    """

    def __init__(
        self,
        side: SideDb,
        catalogs: Callable[[], Iterable[ir.Catalog]],
        release: Callable[[str, Act], int | None],
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._side = side
        self._catalogs = catalogs
        self._release = release
        self._clock = clock
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._known_too: list[ir.Catalog] = []
        self.callouts = CalloutTally()

    def know(self, catalog: ir.Catalog) -> None:
        """Know ``catalog``'s systems too, besides those of the runtime's catalogs: for
        ``om systems --catalog`` on a store whose orders do not (yet) name them."""
        self._known_too.append(catalog)

    def offline(self, system: ir.System) -> bool:
        """Whether callouts to ``system`` must wait (read from the store on every call, so that
        a decision taken by another process, e.g. ``om systems offline``, applies at once)."""
        rows = self._side.query("SELECT offline FROM systems WHERE name = ?", (system.name,))
        return bool(rows[0][0]) if rows else system.offline

    def set_offline(
        self, name: str, offline: bool, by: str | None = None, reason: str | None = None
    ) -> int:
        """Take a system offline (its next callouts are held) or bring it online (its held
        callouts become ready).  Returns how many held callouts this call released.

        Bringing a system online releases its held callouts here when this runtime runs the
        store, or nobody does (they run at the next run).  When another process runs it, only
        the switch is written and 0 is returned: items of a store another scheduler runs must
        not be moved behind its back (it would never run them); that runtime releases them
        itself within about :data:`RECHECK_S` seconds.  What is held is released even when
        the switch was online already, so the running runtime's call (the service's
        ``POST /systems/{name}/online``) frees it after another process flipped the switch.

        ``by`` and ``reason`` are kept with the switch (shown by ``om systems list`` and in the
        words of the callouts it holds) and, when it comes back, in the released items' rows.

        Raises:
            NotFound: no catalog of this runtime declares the system.
            InvalidAct: ``reason`` is not one printable line of at most 1,000 characters, or
                ``by`` is blank.
        """
        act = back_online(name, Act(by=by, reason=reason))  # checked before anything is written
        self._spec(name)
        with self._side.write() as db:
            db.execute(
                "INSERT INTO systems (name, offline, changed_at, changed_by, reason) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET offline = excluded.offline, "
                "changed_at = excluded.changed_at, changed_by = excluded.changed_by, "
                "reason = excluded.reason",
                (name, int(offline), self._clock(), by, reason),
            )
        return 0 if offline else self._release(hold_key(name), act) or 0

    def offline_words(self, name: str) -> str:
        """What a callout held for the offline system ``name`` says: who took it offline and
        why, so that the night shift reading ``om status`` need not ask around."""
        switch = self.last_switch(name)
        by = f", taken offline by {switch.by}" if switch.by else ""
        return f"system {name} is offline{by}" + (f": {switch.reason}" if switch.reason else "")

    def last_switch(self, name: str) -> Act:
        """Who flipped the system's switch last, and why (empty: nobody said, or the catalog
        decided)."""
        rows = self._side.query("SELECT * FROM systems WHERE name = ?", (name,))
        if not rows:
            return Act()
        return Act(by=rows[0][3], reason=rows[0][4] if len(rows[0]) > 4 else None)

    def list(self) -> list[SystemStatus]:
        """Every known system with its current switch, by name."""
        # `*`: a store opened read-only may predate the reason column (it comes last)
        rows = self._side.query("SELECT * FROM systems")
        decided = {row[0]: row for row in rows}
        known = self._known()
        found: list[SystemStatus] = []
        for name in sorted({*known, *decided}):
            spec, row = known.get(name), decided.get(name)
            shown = spec.display_name if spec is not None else None
            if row is None and spec is not None:
                found.append(SystemStatus(name, shown, spec.offline, "catalog", None, None))
            elif row is not None:  # a switch the store keeps, known to a catalog or not yet
                reason = row[4] if len(row) > 4 else None
                found.append(
                    SystemStatus(name, shown, bool(row[1]), "operator", row[2], row[3], reason)
                )
        return found

    def status(self, name: str) -> SystemStatus:
        """Raises NotFound for a system no catalog declares."""
        self._spec(name)
        return next(s for s in self.list() if s.name == name)

    def _spec(self, name: str) -> ir.System | None:
        """The system ``name``, or None for a switch the store keeps that no catalog known
        now declares (set before the first order, with ``--catalog``).

        Raises:
            NotFound: neither a catalog nor the store knows it.
        """
        known = self._known()
        if name in known:
            return known[name]
        if self._side.query("SELECT 1 FROM systems WHERE name = ?", (name,)):
            return None
        raise NotFound(self._unknown(name, known))

    def _unknown(self, name: str, known: dict[str, ir.System]) -> str:
        """Why ``name`` is no system: no catalog known yet, catalogs that declare none (it
        said "no catalog is known yet" for a runtime given a catalog without systems), or
        not among those they declare (with a close name)."""
        shown = show(name, 80)
        catalogs = len(self._all_catalogs())
        if not catalogs:  # `om systems` on a store with no orders: no catalog is known yet
            return (f"no system {shown}: no catalog is known yet (the store has no orders; "
                    "name one: `--catalog CATALOG` for `om systems`)")  # fmt: skip
        if not known:
            declare = (
                "the catalog declares" if catalogs == 1 else f"the {catalogs} catalogs declare"
            )
            return f"no system {shown}: {declare} no systems"
        close = closest(name, list(known))
        hint = f"did you mean '{close}'? " if close is not None else ""
        where = "the catalog" if catalogs == 1 else "the catalogs"
        return f"no system {shown} in {where} ({hint}known systems: {', '.join(sorted(known))})"

    def unset_variables(self) -> builtins.list[str]:
        """The environment variables that the known systems need and that are not set, each
        with what it is for (``BILLING_TOKEN (Billing's credentials)``): a callout of such a
        system fails at once, without retry, so `om serve`, `om run` and `om resume` say so
        at start (an SRE's service said ready, and every order's Billing step failed)."""
        unset: dict[str, str] = {}
        for system in self._known().values():
            if system.url_env and not system.base_url and not self._set(system.url_env):
                unset.setdefault(system.url_env, f"{system.name}'s URL")
            for name in system.auth.env if system.auth is not None else ():
                if not self._set(name):
                    unset.setdefault(name, f"{system.name}'s credentials")
        return [f"{name} ({what})" for name, what in sorted(unset.items())]

    def _set(self, variable: str) -> bool:
        return bool(self._environ.get(variable))  # as the callout reads it

    def online(self, names: Iterable[str]) -> builtins.list[str]:
        """Those of ``names`` whose switch reads online now, by name (a name no catalog
        declares is left out)."""
        known = self._known()
        return [n for n in sorted(set(names)) if n in known and not self.offline(known[n])]

    def _known(self) -> dict[str, ir.System]:
        known: dict[str, ir.System] = {}
        for catalog in self._all_catalogs():
            for system in catalog.systems:
                known.setdefault(system.name, system)
        return known

    def _all_catalogs(self) -> builtins.list[ir.Catalog]:
        """The catalogs whose systems are known, each version once."""
        found = {c.content_hash or id(c): c for c in (*self._catalogs(), *self._known_too)}
        return builtins.list(found.values())


class OnlineWatch:
    """Releases the callouts a running runtime holds for a system once its switch reads online.

    The switch may be flipped by another process (`om systems online` next to `om serve`),
    which must not move the items of a store it does not run; and a callout that read
    "offline" just before the switch flipped is held after the flip's release ran.  Either
    way nothing else would ever release those callouts (the service used to run them only
    after a restart).  The scheduler calls this at every step, under the engine lock: while no
    item is held it only reads a counter, and while some are it reads the switches at most
    every ``every`` seconds.

    Args:
        systems: whose switches are read (from the store, as the callout kind reads them).
        any_held: whether any item of the runtime is on hold (cheap: the engine's count).
        held_systems: the names of the systems that callouts are held for now.
        release: releases the items held under a key (the caller holds the engine lock).
        every: seconds between two readings of the switches.
        also: another release of held items whose cause may be gone, on the same cadence.
    """

    def __init__(
        self,
        systems: Systems,
        any_held: Callable[[], bool],
        held_systems: Callable[[], Iterable[str]],
        release: Callable[[str, Act], int],
        every: float = RECHECK_S,
        monotonic: Callable[[], float] = time.monotonic,
        also: Callable[[], object] = lambda: None,
    ) -> None:
        self._also = also
        self._systems = systems
        self._any_held = any_held
        self._held_systems = held_systems
        self._release = release
        self.every = every
        self._monotonic = monotonic
        self._next = 0.0  # the first step after a start checks at once

    def __call__(self) -> float | None:
        """Release what is held for systems now online; returns the seconds until the next
        reading is due (the scheduler wakes then), or None while nothing is held."""
        if not self._any_held():
            return None
        now = self._monotonic()
        if now < self._next:
            return self._next - now
        self._next = now + self.every
        for name in self._systems.online(self._held_systems()):
            released = self._release(
                hold_key(name), back_online(name, self._systems.last_switch(name))
            )
            if released:
                log.info("system %s is online: %d held callout(s) released", name, released)
        self._also()
        return self.every if self._any_held() else None


def back_online(name: str, switch: Act) -> Act:
    """Why held callouts are released, and by whom: the items' rows name who brought the
    system back and why (the system's own record does; the orders' logs said only
    "released").  Cut to the event log's bound: the operator's words already fit it."""
    said = f"system {name} is back online" + (f": {switch.reason}" if switch.reason else "")
    return Act(by=switch.by, reason=said[:MAX_REASON_CHARS])


def find_system(catalog: ir.Catalog, name: str) -> ir.System:
    """The system a callout names (the compiler guarantees it exists)."""
    for system in catalog.systems:
        if system.name == name:
            return system
    raise NotFound(f"catalog {catalog.content_hash[:19]} declares no system '{name}'")
