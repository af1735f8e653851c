"""``POST /prune``: retention through the service, for an admin token.

It calls the store's own :meth:`~om_dsl.runtime.store.base.Store.prune` with the policy
``om prune`` builds (the same semantics, batches and pauses: see
:mod:`om_dsl.runtime.store.prune`) and answers its report in the shape of
``om prune --format json``.  The service runs the store, so this is the prune beside a
running service that ``om prune`` is, done in-process.  ``--vacuum`` has no counterpart:
``VACUUM`` rewrites the whole file and needs the runner lock, which the service holds.

A prune is refused (503 ``runtimeStopped``, as a new order or an operator action is) once
the runtime has stopped on an error: the store may be what failed (a full disk), and the
service is about to exit for its supervisor to restart it.  A dry run writes nothing and
still answers, as the other reads do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from om_dsl.durations import parse_duration
from om_dsl.logfields import fields
from om_dsl.runtime.runtime import RuntimeStopped
from om_dsl.runtime.store.prune import PrunePolicy, PruneReport, report_json
from om_dsl.service.context import Service
from om_dsl.service.errors import ApiError
from om_dsl.service.models import Prune

log = logging.getLogger("om_dsl.service")


def prune(svc: Service, body: Prune, by: str) -> dict[str, object]:
    """Prune as ``body`` says, one prune at a time (a second one while the first runs is a
    409: both would take the store's write lock in turns, for nothing)."""
    run = _pruner(svc)
    if not body.dryRun:
        _refuse_if_stopped(svc)
    if not svc.prune_lock.acquire(blocking=False):
        raise ApiError(409, "rejected", "a prune is under way; send this one once it is done")
    try:
        cutoff = time.time() - parse_duration(body.olderThan)
        policy = PrunePolicy(cutoff, body.includeUndelivered, body.dryRun)
        start = time.monotonic()
        report = run(policy)
        seconds = time.monotonic() - start
    finally:
        svc.prune_lock.release()
    _log(report, by, body.olderThan)
    return report_json(report, cutoff, seconds)


def _refuse_if_stopped(svc: Service) -> None:
    """A 503 (``runtimeStopped``) once the runtime's loop stopped on an error: the prune
    route took no notice of it, and wrote to the store that had failed."""
    try:
        svc.runtime.refuse_if_stopped()
    except RuntimeStopped:
        raise RuntimeStopped(
            "the runtime stopped on an error (its log says which): nothing is pruned until it "
            "runs again (a dry run still answers)"
        ) from None


def _pruner(svc: Service) -> Callable[[PrunePolicy], PruneReport]:
    """The store's ``prune``; a 501 for a host's store without one (it keeps every order)."""
    run: Callable[[PrunePolicy], PruneReport] | None = getattr(svc.runtime.store, "prune", None)
    if run is None:
        raise ApiError(501, "notImplemented", "this service's store cannot prune orders")
    return run


def _log(report: PruneReport, by: str, older_than: str) -> None:
    """One line per prune, naming who asked: history was erased (or, dry, looked at)."""
    verb = "would prune" if report.dry_run else "pruned"
    log.info("prune by %s: %s %d order(s) finished longer ago than %s, kept %d with "
             "notifications still owed", by, verb, report.orders, older_than,
             report.kept_undelivered,
             extra=fields(event="orders_pruned", principal=by, orders=report.orders,
                          dry_run=str(report.dry_run).lower()))  # fmt: skip
