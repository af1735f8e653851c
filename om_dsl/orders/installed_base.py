"""The hook through which decomposition will learn what a customer already has.

``account``-scoped technical products (one per billing account, across orders: a customer
account, a billing profile) only make full sense against an installed base: the second order
of an account must find the line the first one created instead of adding another.  That store
arrives with a later issue; this protocol is the interface it will implement, and
:class:`NoInstalledBase` (the default) knows nothing, so every account line an order touches
is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class InstalledBase(Protocol):
    """What exists for an account before this order (read-only during a decomposition)."""

    def account_line(self, account: str | None, product: str) -> Mapping[str, Any] | None:
        """The attributes of the installed ``product`` line of ``account``, or None.

        When it exists, the line exists before and after the order: its installed attributes
        are merged first (so ``merge first`` keeps them) and the line's action becomes
        ``modify`` or ``noChange`` instead of ``add``.
        """
        ...


class NoInstalledBase:
    """The default: nothing is installed anywhere."""

    def account_line(self, account: str | None, product: str) -> Mapping[str, Any] | None:
        return None
