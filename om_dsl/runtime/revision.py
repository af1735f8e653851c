"""Amending an order in flight: the plan of the revised order, merged with the work done so far.

OSM calls this revision processing.  The revised order is decomposed and planned as if new;
then each line of the running plan is compared with the line of the same id in the new one:

- **unchanged** (same product, action, scope, attributes, parent and items): its items keep
  what they did (a completed item stays completed, a waiting one keeps waiting); items that
  never started take the new plan's state, so a condition on changed order data is decided
  again;
- **changed** or **removed**: the items that started are kept as history under the line id
  ``<line id>~<revision>`` (the line is *superseded*).  What waits or failed there is
  cancelled, what never ran is discarded, and the compensations (``undo``) of what completed
  run now, in reverse order.  A changed line's items then run again from the start with the
  new values, once those compensations are done (undo, then redo);
- **added**: its items start fresh.

An item that runs after the amendment waits for the work run again upstream of it, also
through kept work; a kept item that had not settled (failed, held) is planned again when such
work is upstream of it.

An amendment that touches a root order item whose point of no return was reached is refused,
as a cancel is.  This module is pure (plans and rows in, a plan and rows out), so that every
case is tested without a runtime; :mod:`om_dsl.runtime.engine` applies the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from om_dsl.errors import OperatorActionRejected
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine
from om_dsl.runtime.states import ItemState
from om_dsl.runtime.store.base import ItemRow, RowValues
from om_dsl.runtime.waits import UNSURE, under_way, unsure_reason

IS = ItemState
COMP_DONE = frozenset({IS.COMPLETED, IS.SKIPPED, IS.DISCARDED})
"""A compensation in these states undid its work, or had none to undo."""
DISCARD = frozenset({IS.PENDING, IS.READY})
"""Never ran: a superseded line's such items are discarded."""
UNSETTLED = frozenset({IS.ON_HOLD, IS.FAILED, IS.FATALLY_FAILED, IS.READY})
"""Started, and neither finished nor waiting on something outside."""
STOP = frozenset({IS.WAITING, IS.ON_HOLD, IS.FAILED, IS.FATALLY_FAILED})
"""Started and unfinished: a superseded line's such items are cancelled, and their kind lets
go of what it holds for them (a task, a callback token that a late callback could use)."""
UNSURE_KEPT = frozenset({IS.READY, IS.FAILED, IS.FATALLY_FAILED})
"""States in which an item whose last attempt has an unknown outcome (wait key ``unsure``)
stays as it is on its history line, when it has an ``undo``: its retry (a replay under its
idempotency key) or an operator settles it, and only then is its undo decided."""


class ItemsRunning(OperatorActionRejected):
    """Items of the order are running: an amendment waits for them to settle."""


ItemChange = tuple[str, str, str, str]
"""(item id, state before, state after, why): one ``item.state`` event of the amendment."""


@dataclass(frozen=True)
class Revision:
    """The amended plan, its item rows (by index), and what the amendment did."""

    plan: OrderPlan
    rows: list[RowValues]
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    """Items that started before and keep their state (lines the revision left alone)."""
    undo: tuple[str, ...]
    """Compensations that run now, undoing completed work of changed and removed lines."""
    stopped: tuple[str, ...]
    """Items (their id before the amendment) that the amendment stopped (waiting, held or
    failed): their kind must let go of what it holds for them."""
    changes: tuple[ItemChange, ...] = field(default=())
    moved: tuple[tuple[str, str], ...] = field(default=())
    """(id before, history id) of unfinished items kept on a history line because their
    outcome is unknown: their kind must find them under the new id."""
    unchanged: bool = False
    """The revised order is the order as it stands (a client that sent its PATCH again): no
    revision is made, ``plan`` is the order's current one and nothing is stored."""
    attributes: tuple[str, ...] = field(default=())
    """The TMF622 attributes of the order that the revision changed (:func:`changed_attributes`),
    named at the end of :meth:`summary`: an event's ``fieldPath``."""

    def summary(self) -> str:
        if self.unchanged:
            return (
                f"nothing to amend: the revised order is the order as it stands "
                f"(revision {self.plan.revision})"
            )
        lines = (
            f"{len(self.changed)} line(s) changed, {len(self.added)} added, "
            f"{len(self.removed)} removed"
            if self.changed or self.added or self.removed
            else "no line changed"
        )
        changed = f"; {ATTRIBUTES_CHANGED}{', '.join(self.attributes)}" if self.attributes else ""
        return (
            f"revision {self.plan.revision}: {lines}; {len(self.kept)} started item(s) kept, "
            f"{len(self.undo)} compensation(s) to run{changed}"
        )


ATTRIBUTES_CHANGED = "attributes changed: "
"""How a revision's summary (its ``order.amended`` log row) names the attributes it changed,
last: the TMF event of the row reads them back from there (its ``fieldPath``)."""
TMF_NAMES = {
    "external_id": "externalId", "account": "billingAccount", "customer": "relatedParty",
    "priority": "priority", "category": "category",
    "requested_start_date": "requestedStartDate",
    "requested_completion_date": "requestedCompletionDate",
}  # fmt: skip
"""An order field (:meth:`Order.order_fields`) -> the TMF622 attribute it comes from; any
other is a catalog attribute, given in ``characteristic``."""
ITEMS = "productOrderItem"


def changed_attributes(old: OrderPlan, new: OrderPlan, lines_changed: bool) -> tuple[str, ...]:
    """The first-level TMF622 attributes a revision changes, sorted: those of the client's
    order (``description``, ``note``, ...), of the fields rules read (a native order's
    ``external_id`` as ``externalId``), and ``productOrderItem`` when an item or a line did.
    An event used to say ``productOrderItem`` for a revision that changed the description."""
    sent = old.client.keys() | new.client.keys()
    names = {k for k in sent if old.client.get(k) != new.client.get(k)}
    fields = old.order_fields.keys() | new.order_fields.keys()
    names |= {
        TMF_NAMES.get(k, "characteristic")
        for k in fields
        if k != "id" and old.order_fields.get(k) != new.order_fields.get(k)
    }
    items_changed = old.order_items != new.order_items or old.client_items != new.client_items
    if lines_changed or items_changed:
        names.add(ITEMS)
    return tuple(sorted(names))


def revise(
    old: OrderPlan, rows: Mapping[str, ItemRow], ponr: Mapping[str, str], new: OrderPlan
) -> Revision:
    """Merge ``new`` (the revised order's plan) with ``old`` and its item ``rows`` (by id).

    Raises:
        OperatorActionRejected: the amendment touches a root item past its point of no
            return, or an item is running (amend again once it settled).
    """
    if new.order_id != old.order_id:
        raise OperatorActionRejected(
            f"the revision is for order {new.order_id}, not for order {old.order_id}"
        )
    running = sorted(i for i, row in rows.items() if under_way(row.state, row.wait_key))
    if running:
        raise ItemsRunning(
            f"order {old.order_id} cannot be amended while items run or wait for the callback "
            f"of a request their system accepted ({', '.join(running)}); amend again once "
            "they settle"
        )
    return _Merge(old, rows, new).merge(ponr)


_ORDER_FIELDS = ("order_fields", "order_items", "client", "client_items", "catalog_hash")
"""What an order says beside its lines: an amendment that changes one of them and no line
(a new description, a note) is still a revision."""


def _same_order(old: OrderPlan, new: OrderPlan) -> bool:
    """Whether the revised order says what the order says now (its lines aside)."""
    return all(getattr(old, name) == getattr(new, name) for name in _ORDER_FIELDS)


def _work(line: PlanLine, items: Iterable[PlanItemInstance]) -> tuple[object, ...]:
    """What a line asks to be done: when it differs, the line's work is redone."""
    names = tuple(sorted(i.name for i in items))
    attrs = sorted(line.attributes.items())
    return (line.product, line.action, line.scope, attrs, line.parent_line, line.wait, names)


def started(row: ItemRow) -> bool:
    """The item did something in its current run (an attempt began, or a person completed
    it).  Not its attempt count: an item run again keeps counting attempts from its old run."""
    return row.started_at is not None or row.state == IS.COMPLETED


class _Merge:
    def __init__(self, old: OrderPlan, rows: Mapping[str, ItemRow], new: OrderPlan) -> None:
        self.old, self.rows, self.new = old, rows, new
        self.rev = old.revision + 1
        self.old_lines = {line.id: line for line in old.lines if not line.superseded}
        self.new_lines = {line.id: line for line in new.lines}
        self.old_items = _by_line(old.items)
        self.history = {line.id for line in old.lines if line.superseded}
        self.old_specs = {item.id: item for item in old.items}
        self.past_attempts = self._past_attempts()
        """Item id -> the attempts its earlier runs made (on history lines): a line removed and
        added back counts on from them too."""
        self.new_items = _by_line(new.items)
        self.changes: list[ItemChange] = []
        self.stopped: list[str] = []
        self.undo_of_line: dict[str, list[str]] = {}
        """This revision's compensations, by the line whose work they undo."""
        self.before_redo: dict[str, list[str]] = {}
        """Every unfinished compensation of a line's superseded work (of this revision or an
        earlier one): the line's items wait for them before they run (undo, then redo)."""
        self.gone: set[str] = set()
        """Lines superseded by this revision and kept as history."""
        self.undone = {o for i in old.items if i.is_compensation for o in i.compensation_of}
        """Items that have an ``undo``."""
        self.moved: list[tuple[str, str]] = []

    def merge(self, ponr: Mapping[str, str]) -> Revision:
        same = self._unchanged()
        changed = sorted(set(self.old_lines) & set(self.new_lines) - same)
        removed = sorted(set(self.old_lines) - set(self.new_lines))
        added = sorted(set(self.new_lines) - set(self.old_lines))
        if not (changed or removed or added) and _same_order(self.old, self.new):
            return Revision(self.old, [], (), (), (), (), (), (), unchanged=True)
        self._check_ponr(ponr, {"changes": changed, "removes": removed, "adds": added})
        gone_lines, gone_items, gone_rows = self._supersede([*changed, *removed])
        self._unfinished_undo()
        live_items, live_rows, kept = self._live(same)
        live_items = _through_kept(live_items, set(kept))
        kept = self._unsettled_after_redo(live_items, live_rows, kept)
        self._check_items_ponr(ponr)
        history = [self._moved_peers(line) for line in self.old.lines if line.superseded]
        history_items = [i for i in self.old.items if i.line_id in self.history]
        items = [*live_items, *history_items, *gone_items]
        rows = [*live_rows, *(self._row(i.id) for i in history_items), *gone_rows]
        plan = self.new.model_copy(
            update={
                "lines": (*self.new.lines, *history, *gone_lines),
                "items": tuple(items),
                "revision": self.rev,
            }
        )
        undo = tuple(i for ids in self.undo_of_line.values() for i in ids)
        indexed = [(n, *row[1:]) for n, row in enumerate(rows)]
        attributes = changed_attributes(self.old, self.new, bool(changed or added or removed))
        return Revision(
            plan, indexed, tuple(changed), tuple(added), tuple(removed), tuple(kept), undo,
            tuple(self.stopped), tuple(self.changes), tuple(self.moved), attributes=attributes,
        )  # fmt: skip

    # ---- comparing ----------------------------------------------------------------------------

    def _unchanged(self) -> set[str]:
        return {
            line_id
            for line_id, line in self.new_lines.items()
            if line_id in self.old_lines
            and _work(line, self.new_items.get(line_id, ()))
            == _work(self.old_lines[line_id], self.old_items.get(line_id, ()))
        }

    def _check_ponr(self, ponr: Mapping[str, str], touched: Mapping[str, list[str]]) -> None:
        for verb, line_ids in touched.items():
            for line_id in line_ids:
                for line in (self.old_lines.get(line_id), self.new_lines.get(line_id)):
                    self._refuse_past_ponr(ponr, line, f"line {line_id}", verb)

    def _check_items_ponr(self, ponr: Mapping[str, str]) -> None:
        """Items of an unchanged line whose state the revision changes (a plan-time ``when``
        on order data) are changes to their root item too, so its point of no return holds."""
        for item_id, before, after, _ in self.changes:
            if {before, after} <= {IS.PENDING, IS.READY}:
                continue  # planned again as it was: nothing of substance changes
            line = self.new_lines.get(item_id.rsplit(":", 1)[0])
            self._refuse_past_ponr(ponr, line, f"item {item_id} ({before} -> {after})")

    def _refuse_past_ponr(
        self, ponr: Mapping[str, str], line: PlanLine | None, what: str, verb: str = "changes"
    ) -> None:
        for root in line.root_items if line else ():
            if root in ponr:
                raise OperatorActionRejected(
                    f"order {self.old.order_id} cannot be amended: the revision {verb} {what} "
                    f"of root item {root}, whose point of no return was reached when "
                    f"{ponr[root]} started"
                )

    @staticmethod
    def _maybe_done(row: ItemRow) -> bool:
        """The item completed, or its last attempt may have taken effect (see
        :data:`UNSURE_KEPT`): its compensation waits to be decided at run time."""
        return row.state == IS.COMPLETED or (row.wait_key == UNSURE and row.state in UNSURE_KEPT)

    def _row(self, item_id: str) -> RowValues:
        return tuple(self.rows[item_id])

    # ---- the live lines -----------------------------------------------------------------------

    def _live(self, same: set[str]) -> tuple[list[PlanItemInstance], list[RowValues], list[str]]:
        items: list[PlanItemInstance] = []
        rows: list[RowValues] = []
        kept: list[str] = []
        for planned in self.new.items:
            row = self.rows.get(planned.id)
            if planned.line_id in same:
                spec = planned.model_copy(update={"revision": self.old_specs[planned.id].revision})
                if row is not None and started(row):
                    items.append(spec)
                    rows.append(tuple(row))
                    kept.append(spec.id)
                    continue
            else:
                spec = planned.model_copy(update={"revision": self.rev})
            spec = self._after_undo(spec)
            items.append(spec)
            attempts = row.attempt if row is not None else self.past_attempts.get(spec.id, 0)
            rows.append(_fresh(spec, attempts))
            if row is not None and row.state != spec.initial:
                why = f"{'redone' if spec.line_id not in same else 'planned again'} by revision"
                self.changes.append((spec.id, row.state, spec.initial, f"{why} {self.rev}"))
        return items, rows, kept

    def _unsettled_after_redo(
        self, items: list[PlanItemInstance], rows: list[RowValues], kept: list[str]
    ) -> list[str]:
        """A kept item that has not settled (failed, held, ready for a retry) and now waits
        for redone work upstream is planned again: it must not run, or be retried, before
        that work (its result would build on undone work).  Its tokens are voided too."""
        still: list[str] = []
        was_kept = set(kept)
        to_run = {
            i.id
            for i, r in zip(items, rows, strict=True)
            if i.id not in was_kept and ItemRow(*r).state != IS.SKIPPED
        }
        for n, item in enumerate(items):
            row = ItemRow(*rows[n])
            unsettled = row.state in UNSETTLED and item.id in was_kept
            if not unsettled or not any(d in to_run for d in item.deps):
                if item.id in was_kept:
                    still.append(item.id)
                continue
            items[n] = item.model_copy(update={"revision": self.rev})
            rows[n] = _fresh(items[n], row.attempt)
            self.stopped.append(item.id)
            why = f"waits for work redone by revision {self.rev}"
            self.changes.append((item.id, row.state, items[n].initial, why))
        return still

    def _past_attempts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in self.old.items:
            line_id, _, name = item.id.rpartition(":")
            if item.line_id in self.history:
                base = f"{line_id.rsplit('~', 1)[0]}:{name}"
                found[base] = max(found.get(base, 0), self.rows[item.id].attempt)
        return found

    def _after_undo(self, spec: PlanItemInstance) -> PlanItemInstance:
        """An item of a line runs (again) only once the line's old work is undone: this
        revision's, and an earlier one's that is not undone yet (failed, or not run)."""
        undo = self.before_redo.get(spec.line_id, ())
        if not undo or spec.is_compensation:
            return spec
        return spec.model_copy(update={"deps": (*spec.deps, *undo)})

    def _unfinished_undo(self) -> None:
        for line_id in sorted(self.history):
            base = line_id.rsplit("~", 1)[0]
            for spec in self.old_items.get(line_id, ()):
                if spec.is_compensation and self.rows[spec.id].state not in COMP_DONE:
                    self.before_redo.setdefault(base, []).append(spec.id)

    # ---- the superseded lines -----------------------------------------------------------------

    def _supersede(
        self, line_ids: list[str]
    ) -> tuple[list[PlanLine], list[PlanItemInstance], list[RowValues]]:
        lines: list[PlanLine] = []
        items: list[PlanItemInstance] = []
        rows: list[RowValues] = []
        keep = [  # a line where nothing ran leaves nothing to keep and nothing to undo
            line_id
            for line_id in line_ids
            if any(started(self.rows[s.id]) for s in self.old_items.get(line_id, ()))
        ]
        self.gone = set(keep)
        names = {
            i.id: f"{line_id}~{self.rev}:{i.name}"
            for line_id in keep
            for i in self.old_items.get(line_id, ())
        }
        for line_id in keep:
            specs = self.old_items.get(line_id, [])
            lines.append(self._gone_line(self.old_lines[line_id]))
            for spec in specs:
                item, row = self._gone_item(spec, names)
                items.append(item)
                rows.append(row)
        return lines, items, rows

    def _gone_line(self, line: PlanLine) -> PlanLine:
        moved = self._moved_peers(line)
        return moved.model_copy(update={"id": f"{line.id}~{self.rev}", "superseded": self.rev})

    def _moved_peers(self, line: PlanLine) -> PlanLine:
        """Superseded work reads the outputs its peers had then: a peer superseded now is its
        history line; a peer that is gone without history is dropped."""

        def peer(p: str) -> str | None:
            if p in self.gone:
                return f"{p}~{self.rev}"
            return p if p in self.new_lines or p in self.history else None

        peers = tuple(q for q in map(peer, line.peers) if q is not None)
        return line if peers == line.peers else line.model_copy(update={"peers": peers})

    def _gone_item(
        self, spec: PlanItemInstance, names: dict[str, str]
    ) -> tuple[PlanItemInstance, RowValues]:
        row = self.rows[spec.id]
        new_id = names[spec.id]
        update: dict[str, object] = {"id": new_id, "line_id": f"{spec.line_id}~{self.rev}"}
        if spec.is_compensation:
            update["compensation_of"] = tuple(names[o] for o in spec.compensation_of)
            update["deps"] = tuple(names[d] for d in spec.deps if d in names)
            undoes = any(self._maybe_done(self.rows[o]) for o in spec.compensation_of)
            state = IS.PENDING if undoes else IS.DISCARDED
            why = "undoes work of a line the amendment changed" if undoes else "nothing to undo"
            if undoes:
                self.undo_of_line.setdefault(spec.line_id, []).append(new_id)
                self.before_redo.setdefault(spec.line_id, []).append(new_id)
        else:
            update["deps"] = ()
            unsure = row.wait_key == UNSURE and spec.id in self.undone
            state, why = _final(IS(row.state), started(row), unsure)
            if unsure and state == row.state:
                self.moved.append((spec.id, new_id))
            if state == IS.CANCELLED and row.state != IS.CANCELLED:
                self.stopped.append(spec.id)  # its kind lets go (a task, a callback token)
        item = spec.model_copy(update=update)
        if state == row.state == IS.FATALLY_FAILED and row.wait_key == UNSURE:
            row = row._replace(reason=unsure_reason(row.reason))  # what the operator must do
        if state == row.state:
            if state != spec.initial:  # the log must say where the history item stands
                why = f"kept as history of {spec.id} (revision {self.rev})"
                self.changes.append((new_id, spec.initial, state, why))
            return item, (0, new_id, *row[2:])
        self.changes.append((new_id, row.state, state, f"{why} (revision {self.rev})"))
        return item, (0, new_id, state, row.attempt, row.failures, None, row.started_at,
                      row.ended_at, row.outputs, why, None, row.key_from)  # fmt: skip


def _final(state: ItemState, ran: bool, unsure: bool = False) -> tuple[ItemState, str]:
    """What becomes of a normal item of a superseded line.  One whose last attempt may have
    taken effect, and has an undo, stays (ready, failed or in fallout) until it settles."""
    if unsure and state in UNSURE_KEPT:
        return state, ""
    if state in DISCARD and not ran:
        return IS.DISCARDED, "superseded by an amendment before it ran"
    if state in STOP or state in DISCARD:
        return IS.CANCELLED, "stopped: an amendment superseded its line"
    return state, ""


def _through_kept(items: list[PlanItemInstance], kept: set[str]) -> list[PlanItemInstance]:
    """An item that runs after the amendment waits for every item that runs again upstream of
    it, also through kept work: an item after a kept ``reserve`` that followed a redone
    ``Port.assign`` must not run (or decide its ``when``) before the new ``assign``.  These
    items were upstream already, so no edge added here can close a cycle."""
    by_id = {item.id: item for item in items}
    found: dict[str, tuple[str, ...]] = {}

    def upstream(item_id: str) -> tuple[str, ...]:
        if item_id not in found:
            found[item_id] = ()  # a guard: plans are acyclic, but be safe
            fresh: dict[str, None] = {}
            for dep in by_id[item_id].deps:
                if dep in kept:
                    fresh.update(dict.fromkeys(upstream(dep)))
                elif dep in by_id:
                    fresh[dep] = None
            found[item_id] = tuple(fresh)
        return found[item_id]

    result = []
    for item in items:
        extra: list[str] = []
        if item.id not in kept and not item.is_compensation:
            extra = [f for d in item.deps if d in kept for f in upstream(d) if f not in item.deps]
        deps = (*item.deps, *dict.fromkeys(extra))
        result.append(item.model_copy(update={"deps": deps}) if extra else item)
    return result


def _fresh(spec: PlanItemInstance, attempts: int) -> RowValues:
    """A row for a new run of the item: its attempts go on counting from the old run's, so an
    attempt number (in a manual task's id, a correlation id, the event log) never names two
    different runs; its idempotency key counts from its first attempt."""
    return (0, spec.id, spec.initial, attempts, 0, None, None, None, None, spec.skip_reason, None,
            attempts + 1)  # fmt: skip


def _by_line(items: Iterable[PlanItemInstance]) -> dict[str, list[PlanItemInstance]]:
    found: dict[str, list[PlanItemInstance]] = {}
    for item in items:
        found.setdefault(item.line_id, []).append(item)
    return found
