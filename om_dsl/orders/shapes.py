"""Reading what is well formed in an order whose shape is wrong, so that one pass reports both.

When pydantic rejects an order (a field of the wrong type, a missing or an unknown field), the
rest of it is still worth checking against the catalog: a number written as text in one item
and an unknown product in another are reported in the same answer.  Each shape error has an
owner: the order itself (one of its own fields) or one item (not the items nested in it).

- An item without an error of its own is read as usual.
- An item with one is left out of every check that involves other items (ids,
  relationships, bundles), and what those would blame on its absence is not reported (see
  :class:`~om_dsl.orders.drafts.Unread`).  When its errors are in fields that say nothing
  about its product and values (``quantity`` or ``id``, say), its product and values are
  still checked against the catalog: they are well formed, and no other check depends on them.
- The order's own fields are read where they are fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from om_dsl.orders.drafts import DraftItem, Unread
from om_dsl.orders.issues import IssueLog, Path, index, key
from om_dsl.orders.shape_errors import add_shape_errors

Loc = tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a format keeps its items, and which of their fields the catalog checks read."""

    items: str
    """The order's list of items."""
    nested: str
    """An item's list of the items nested in it."""
    catalog_fields: tuple[str, ...]
    """The fields an item's product and attribute values come from."""
    stand_ins: Mapping[str, Any]
    """Values for the other required fields, to read the catalog fields of an item whose
    other fields are wrong."""


@dataclass(frozen=True, slots=True)
class SoundItem:
    """A well-formed item (or the well-formed catalog fields of one), ready for its model."""

    raw: dict[str, Any]
    """The item as sent, without its nested items (each of those is read on its own)."""
    path: Path
    parent: str | None
    """The id of the item it is nested in, when that one is well formed too."""


@dataclass(slots=True)
class ReadItems:
    sound: list[SoundItem]
    """The well-formed items, in document order (an item before the items nested in it)."""
    detached: list[SoundItem]
    """The catalog fields of items left out, where those are well formed."""
    unread: Unread
    """What is known of the items left out."""


class Faults:
    """Where the shape errors are: which of the order's own fields, which fields of which
    items (``None``: the item as a whole, e.g. not an object)."""

    def __init__(self, errors: Iterable[Mapping[str, Any]], layout: Layout) -> None:
        self.layout = layout
        self.fields: set[str] = set()
        self.items: dict[Loc, set[str | None]] = {}
        for error in errors:
            loc: Loc = tuple(error["loc"])
            if len(loc) < 2 or loc[0] != layout.items:
                self.fields.add(str(loc[0]) if loc else "")
                continue
            owner = self._owner(loc)
            field = loc[len(owner)] if len(loc) > len(owner) else None
            self.items.setdefault(owner, set()).add(None if field is None else str(field))

    def field_ok(self, name: str) -> bool:
        return name not in self.fields

    def detachable(self, loc: Loc) -> bool:
        """Whether the catalog fields of a faulty item are well formed."""
        fields = self.items[loc]
        return None not in fields and fields.isdisjoint(self.layout.catalog_fields)

    def _owner(self, loc: Loc) -> Loc:
        """The item an error is in: the deepest item nested on its location."""
        end, nested = 2, self.layout.nested
        while len(loc) > end + 1 and loc[end] == nested and isinstance(loc[end + 1], int):
            end += 2
        return loc[:end]


@dataclass(frozen=True, slots=True)
class Salvaged:
    """What an order of the wrong shape still gives: its faults, sound items, what is unread."""

    faults: Faults
    items: list[DraftItem]
    unread: Unread


def salvage(
    data: Mapping[str, Any],
    exc: ValidationError,
    log: IssueLog,
    model: type[BaseModel],
    layout: Layout,
    draft_item: Callable[[SoundItem], DraftItem],
) -> Salvaged:
    """Report the shape errors of ``data`` (read as ``model``) and read what is well formed.

    Shared by the TMF622 and native readers, which differ only in their models, layouts and
    in how one sound item becomes a draft."""
    errors = exc.errors()
    add_shape_errors(log, errors, model)
    faults = Faults(errors, layout)
    read = read_items(data, faults)
    read.unread.drafts = [draft_item(s) for s in read.detached]
    return Salvaged(faults, [draft_item(s) for s in read.sound], read.unread)


def read_items(data: Mapping[str, Any], faults: Faults) -> ReadItems:
    """The items of ``data``, sorted into well-formed ones and the others (see above)."""
    layout, out = faults.layout, ReadItems([], [], Unread())
    entries = data.get(layout.items) if faults.field_ok(layout.items) else None
    todo = _nested(entries, (layout.items,), layout.items, None)
    while todo:
        raw, loc, path, parent = todo.pop()
        if loc in faults.items:
            _leave_out(raw, loc, path, parent, faults, out)
            parent_id = None
        else:
            out.sound.append(SoundItem({**raw, layout.nested: []}, path, parent))
            parent_id = raw["id"]
        nested = raw.get(layout.nested) if isinstance(raw, dict) else None
        todo.extend(_nested(nested, (*loc, layout.nested), key(path, layout.nested), parent_id))
    return out


_Entry = tuple[Any, Loc, Path, str | None]


def _nested(entries: Any, loc: Loc, path: Path, parent: str | None) -> list[_Entry]:
    """The entries of a list of items, last first (so that popping them keeps their order)."""
    if not isinstance(entries, list):
        return []
    return [
        (raw, (*loc, i), index(path, i), parent) for i, raw in reversed(list(enumerate(entries)))
    ]


def _leave_out(
    raw: Any, loc: Loc, path: Path, parent: str | None, faults: Faults, out: ReadItems
) -> None:
    unread, layout = out.unread, faults.layout
    unread.count += 1
    if parent is not None:
        unread.parents.add(parent)
    item_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(item_id, str | int) and not isinstance(item_id, bool):
        unread.ids.add(str(item_id))
    else:
        unread.anonymous = True
    action = raw.get("action") if isinstance(raw, dict) else None
    if isinstance(action, str):
        unread.actions.append((action, key(path, "action")))
    if faults.detachable(loc):
        fields = {f: raw[f] for f in layout.catalog_fields if f in raw}
        out.detached.append(SoundItem({**layout.stand_ins, **fields}, path, None))
