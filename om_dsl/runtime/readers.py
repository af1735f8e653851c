"""Which outputs of an item the rest of its order will still read.

An item finished by hand (``om complete``, a manual task) gets its outputs from a person.  If a
later item reads one that was left out (``activate`` sends ``reserve_port.port_id``), it reads
null, and a point-of-no-return callout went to the network with ``port_id: null``.  So the
outputs a person gives are checked first: every output that an item still to run reads must
be there (null when it is truly unknown, said on purpose).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from om_dsl.errors import OperatorActionRejected
from om_dsl.expr.refs import item_exprs, refs
from om_dsl.runtime.live import ItemRun, OrderRun
from om_dsl.runtime.states import ItemState
from om_dsl.suggest import closest

_READ_NO_MORE = frozenset(
    {ItemState.COMPLETED, ItemState.SKIPPED, ItemState.DISCARDED, ItemState.CANCELLED,
     ItemState.RUNNING}
)  # fmt: skip
"""States of items that will not evaluate their expressions again (a waiting item may: a
wait's ``until`` is checked as outputs change)."""


def require_read_outputs(
    order: OrderRun, item: ItemRun, outputs: Mapping[str, Any], refused: str
) -> None:
    """Refuse ``outputs`` for ``item`` that lack an output a later item reads.

    Raises:
        OperatorActionRejected: ``refused``, then each missing output and who reads it.
    """
    wanted = read_outputs(order, item)
    missing = sorted(name for name in wanted if name not in outputs)
    if not missing:
        return
    given = [name for name in outputs if name not in wanted]
    raise OperatorActionRejected(
        f"{refused}: the outputs lack what later items read: "
        f"{_who_reads(item, wanted, missing, given)}. Give each (null if it is truly unknown)"
    )


def require_unread(order: OrderRun, item: ItemRun, refused: str) -> None:
    """Refuse to skip ``item`` (it ends without outputs) while an item still to run reads
    one of them: the reader would run with null, past the point of no return too.  Its own
    compensation does not count: it is discarded when the item ends without completing.

    Raises:
        OperatorActionRejected: ``refused``, each output read and who reads it, and the way out.
    """
    undo = order.undo_of.get(item.idx)
    wanted = read_outputs(order, item, ignore=undo)
    if not wanted:
        return
    readers = _who_reads(item, wanted, sorted(wanted), [])
    ids = f"{shlex.quote(order.id)} {shlex.quote(item.id)}"
    complete, force = f"om complete {ids} --outputs '{{...}}'", f"om skip {ids} --force"
    raise OperatorActionRejected(
        f"{refused}: items still to run read its outputs: {readers}. Complete it with them "
        f"instead ({complete}, null for one that is truly unknown), or force the skip if "
        f'those items handle null ({force}; force=True in the API, "force": true in the '
        "service)",
        (complete, force),
    )


def _who_reads(
    item: ItemRun, wanted: Mapping[str, list[str]], names: list[str], given: list[str]
) -> str:
    """``reserve.rid, read by w/Line:activate (you gave 'ri')``, for each of ``names``."""
    parts = []
    for name in names:
        hint = closest(name, given) if given else None
        readers = ", ".join(wanted[name][:3]) + (" ..." if len(wanted[name]) > 3 else "")
        typo = f" (you gave {hint!r})" if hint else ""
        parts.append(f"{item.tpl.name}.{name}, read by {readers}{typo}")
    return "; ".join(parts)


def read_outputs(order: OrderRun, item: ItemRun, ignore: int | None = None) -> dict[str, list[str]]:
    """Output name -> the ids of the items still to run that read it from ``item`` (but
    the item of index ``ignore``)."""
    found: dict[str, list[str]] = {}
    for reader in order.by_id.values():
        if reader is item or reader.state in _READ_NO_MORE or reader.idx == ignore:
            continue
        for name in _names_read(reader, item):
            readers = found.setdefault(name, [])
            if reader.id not in readers:
                readers.append(reader.id)
    return found


def _names_read(reader: ItemRun, item: ItemRun) -> Iterator[str]:
    own = reader.line is item.line
    product = item.line.product
    for expr in item_exprs(reader.tpl.spec):
        for ref in refs(expr):
            path = ref.path
            if ref.root == "item" and own and len(path) > 1 and path[0] == item.tpl.name:
                yield str(path[1])
            elif (
                ref.root == "product"
                and len(path) > 2
                and (path[0], path[1]) == (product, item.tpl.name)
                and reader.line.nearest(product) is item.line
            ):
                yield str(path[2])
