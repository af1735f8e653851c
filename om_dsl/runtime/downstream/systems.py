"""Downstream systems at run time: where they are, and whether they are online.

A system is offline when the catalog says so (``offline``) or an operator said so; the
operator's word is persisted in the store and wins over the catalog.  Callouts to an offline
system are put on hold under the key ``system:<name>`` instead of being sent; bringing the
system online releases them (they become ready and run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from om_dsl.errors import NotFound
from om_dsl.ir import models as ir
from om_dsl.runtime.downstream.state import SideDb


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


class Systems:
    """The systems of the runtime's catalogs and their online/offline switch.

    Args:
        side: where operator decisions are persisted.
        catalogs: the catalogs whose systems are known (the runtime's, and those that stored
            orders are pinned to).
        release: makes the items held under a key ready again; returns how many.
    """

    def __init__(
        self,
        side: SideDb,
        catalogs: Callable[[], Iterable[ir.Catalog]],
        release: Callable[[str], int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._side = side
        self._catalogs = catalogs
        self._release = release
        self._clock = clock

    def offline(self, system: ir.System) -> bool:
        """Whether callouts to ``system`` must wait (read from the store on every call, so that
        a decision taken by another process, e.g. ``om systems offline``, applies at once)."""
        rows = self._side.query("SELECT offline FROM systems WHERE name = ?", (system.name,))
        return bool(rows[0][0]) if rows else system.offline

    def set_offline(self, name: str, offline: bool, by: str | None = None) -> int:
        """Take a system offline (its next callouts are held) or bring it online (its held
        callouts become ready).  Returns how many callouts were released.

        Raises:
            NotFound: no catalog of this runtime declares the system.
        """
        self._spec(name)
        with self._side.write() as db:
            db.execute(
                "INSERT INTO systems (name, offline, changed_at, changed_by) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET offline = excluded.offline, "
                "changed_at = excluded.changed_at, changed_by = excluded.changed_by",
                (name, int(offline), self._clock(), by),
            )
        return 0 if offline else self._release(hold_key(name))

    def list(self) -> list[SystemStatus]:
        """Every known system with its current switch, by name."""
        rows = self._side.query("SELECT name, offline, changed_at, changed_by FROM systems")
        decided = {row[0]: row for row in rows}
        found: list[SystemStatus] = []
        for spec in sorted(self._known().values(), key=lambda s: s.name):
            row = decided.get(spec.name)
            if row is None:
                found.append(SystemStatus(spec.name, spec.display_name, spec.offline, "catalog",
                                          None, None))  # fmt: skip
            else:
                found.append(SystemStatus(spec.name, spec.display_name, bool(row[1]), "operator",
                                          row[2], row[3]))  # fmt: skip
        return found

    def status(self, name: str) -> SystemStatus:
        """Raises NotFound for a system no catalog declares."""
        self._spec(name)
        return next(s for s in self.list() if s.name == name)

    def _spec(self, name: str) -> ir.System:
        known = self._known()
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise NotFound(f"no system '{name}' in the catalog (known systems: {names})")
        return known[name]

    def _known(self) -> dict[str, ir.System]:
        known: dict[str, ir.System] = {}
        for catalog in self._catalogs():
            for system in catalog.systems:
                known.setdefault(system.name, system)
        return known


def find_system(catalog: ir.Catalog, name: str) -> ir.System:
    """The system a callout names (the compiler guarantees it exists)."""
    for system in catalog.systems:
        if system.name == name:
            return system
    raise NotFound(f"catalog {catalog.content_hash[:19]} declares no system '{name}'")
