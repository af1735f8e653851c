"""Item ids and accounts that the ids of shared requests and lines would collide with.

A root item's request is ``fr:<item id>`` and its lines ``<item id>/<Product>``; the shared
ones are ``fr:order`` and ``order/<Product>``, ``fr:relies_on:<first item>`` and
``relies_on:<first item>/<Product>``, ``fr:account:<account>`` and
``account:<account>/<Product>``, where an order with no account is ``-``.  So an item called
``order`` (or ``relies_on:...``, ``account:...``) would share a request id with a shared
request, and an account called ``-`` would share its lines with the items that have no
account.  Validation refuses both (O021) rather than renaming anything: ordinary orders keep
their ids.
"""

from __future__ import annotations

from typing import Final

from om_dsl.orders.issues import show

# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use.
SHARED_PREFIXES: Final = ("relies_on:", "account:")
NO_ACCOUNT: Final = "-"
"""How a missing account shows in shared ids: ``fr:account:-``, ``account:-/<Product>``."""


def reserved_item_id(item_id: str) -> str | None:
    """Why ``item_id`` cannot be an item's id, or None when it can."""
    if item_id == "order":
        shared = (
            "'fr:order' is the request of the order-scope lines, and 'order/<Product>' their ids"
        )
    elif item_id.startswith(SHARED_PREFIXES):
        scope = item_id.split(":", 1)[0]
        shared = (
            f"'fr:{scope}:...' and '{scope}:.../<Product>' are the ids of the shared "
            f"{scope}-scope requests and lines"
        )
    else:
        return None
    return (
        f"item id {show(item_id)} is reserved: an item's request is 'fr:<item id>' and its lines "
        f"'<item id>/<Product>', but {shared}; use another id"
    )


def reserved_account(account: str) -> str | None:
    """Why ``account`` cannot be a billing account, or None when it can."""
    if account != NO_ACCOUNT:
        return None
    return (
        f"account {show(account)} is reserved: it stands for no account in the ids of "
        "account-scope lines ('account:-/<Product>', request 'fr:account:-'), so it would merge "
        "with the lines of the items that have none; use the real account id, or leave it out"
    )
