"""`om retry --all-failed`: retry every item in fallout that a filter names, after an outage.

A downstream outage leaves every order that called the system held on one item; `om retry
ORDER ITEM` took one of them per command.  This takes them all (or those of one system,
order, product or item-id pattern), through ``Runtime.retry_fallout``: one commit per order,
each item recorded with ``--user`` and ``--reason`` as a single retry is.  Like the other
operator commands it is refused while another process runs the store (exit 7), and then
says which route of that process's API does the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from om_dsl.cli.app import EXIT_BUSY, EXIT_REFUSED, EXIT_USAGE, err, fail, write_stdout
from om_dsl.cli.runtime_args import carry_on, guard, open_runtime
from om_dsl.runtime.fallout import BulkRetry, FalloutFilter
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.runner_lock import StoreInUse

ROUTE = "POST /fallout/retry"


def refuse_mixed(order_id: str | None, item: str | None) -> None:
    """``--all-failed`` names items by its filter, one retry by ORDER_ID ITEM: never both;
    a filter without ``--all-failed`` would be ignored (exit 2 for either)."""
    if order_id is not None or item is not None:
        fail("--all-failed retries the items its filter names: give no ORDER_ID ITEM "
             "(--order ID keeps one order's)", EXIT_USAGE)  # fmt: skip


def refuse_filter_alone(wanted: FalloutFilter) -> None:
    """A filter is for ``--all-failed`` only: without it, it would be ignored."""
    if not wanted.empty:
        fail("--system, --order, --product and --items filter --all-failed: add it (or give "
             "ORDER_ID ITEM to retry one item)", EXIT_USAGE)  # fmt: skip


def retry_all_failed(db: Path, wanted: FalloutFilter, by: str | None, reason: str | None) -> None:
    """Retry them, print each retried item (``ORDER_ID<tab>ITEM``, for scripts) and a
    summary; exit 6 when some were refused (the others were retried), 0 otherwise, also
    when nothing matched (a second run after the first is no error)."""
    with open_runtime(db, None, None, 1) as runtime:
        _claim(runtime, wanted, reason)
        done: BulkRetry = guard(lambda: runtime.retry_fallout(wanted, by=by, reason=reason), db)
    for item in done.retried:
        write_stdout(f"{item.order_id}\t{item.item_id}\n")
    for item, why in done.refused:
        err.print(f"refused: {item.order_id} {item.item_id}: {why}", markup=False,
                  highlight=False)  # fmt: skip
    _summary(done, db)
    if done.refused:
        sys.exit(EXIT_REFUSED)


def _claim(runtime: Runtime, wanted: FalloutFilter, reason: str | None) -> None:
    """The store's runner lock, as every operator command takes it (held to keep runners
    out: nothing runs here, so a backup copy is refused by the write, exit 6, not as a run
    it is not); refused (exit 7) with the route of the running service that does the same,
    body and all."""
    try:
        runtime.claim_store(run=False)
    except StoreInUse as exc:
        fail(f"{exc}; through om serve's API: {ROUTE} {_body(wanted, reason)}", EXIT_BUSY)


def _body(wanted: FalloutFilter, reason: str | None) -> str:
    fields = {"system": wanted.system, "orderId": wanted.order_id,
              "itemIdPattern": wanted.item_pattern, "product": wanted.product}  # fmt: skip
    body: dict[str, object] = {name: value for name, value in fields.items() if value}
    if not body:
        body["all"] = True
    if reason:
        body["reason"] = reason
    return json.dumps(body)


def _summary(done: BulkRetry, db: Path) -> None:
    if not done.retried and not done.refused:
        err.print("no item in fallout matches: nothing to retry", markup=False)
        return
    orders = len({item.order_id for item in done.retried})
    refused = f", {len(done.refused)} refused" if done.refused else ""
    err.print(f"retried {len(done.retried)} item(s) of {orders} order(s){refused}",
              markup=False)  # fmt: skip
    if done.retried:
        err.print(carry_on(db), markup=False)
