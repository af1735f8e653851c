"""What an unknown item id was meant to be: the "did you mean" of the operator actions.

An operator types item ids by hand (``om retry 30001 110/MobileSubscription:activte``), and
the answer was only "order 30001 has no item ...".  Item ids are ``<line>/<Product>:<name>``;
a misspelling gets the closest id (:func:`om_dsl.suggest.closest`), and a short form (the
item's name, ``activate``, or ``MobileSubscription:activate``) gets the whole id it names.
The action is never carried out on a guess: the operator gives the whole id.
"""

from __future__ import annotations

from collections.abc import Iterable

from om_dsl.suggest import closest

MAX_NAMED = 5
"""Ids a message lists when a short form names several items."""


def short_forms(item_id: str) -> tuple[str, ...]:
    """The shorter names an operator may give for an item: ``Product:name`` and ``name``."""
    tail = item_id.rsplit("/", 1)[-1]
    name = tail.rsplit(":", 1)[-1]
    return (tail, name) if tail != name else (tail,)


def meant(item_id: str, ids: Iterable[str]) -> str:
    """A hint for an id no item has (empty when nothing is close): the whole id a short form
    names, the ids it could be, or the closest id."""
    known = sorted(set(ids))
    named = [full for full in known if item_id in short_forms(full)]
    if len(named) == 1:
        return f"did you mean {named[0]}? give the whole item id"
    if named:
        more = " ..." if len(named) > MAX_NAMED else ""
        return f"it names {len(named)} items: {', '.join(named[:MAX_NAMED])}{more}; give one whole"
    close = closest(item_id, known)
    if close is None:  # a misspelt short form (`activte`): its item, when only one has it
        forms = {form: full for full in known for form in short_forms(full)}
        near = closest(item_id, forms)
        whole = [full for full in known if near is not None and near in short_forms(full)]
        close = whole[0] if len(whole) == 1 else None
    return f"did you mean {close}?" if close is not None else ""


def unknown_item(order_id: str, item_id: str, ids: Iterable[str]) -> str:
    """``order 30001 has no item 110/MobileSubscription:activte (did you mean ...?)``."""
    hint = meant(item_id, ids)
    return f"order {order_id} has no item {item_id}" + (f" ({hint})" if hint else "")
