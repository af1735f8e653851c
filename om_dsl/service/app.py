"""``create_app(runtime, config)``: the FastAPI app of the TMF622 service around a runtime.

The app owns no state of its own: orders, plans, tasks, listeners and cancel requests all live
in the runtime's store, so a restart of the service loses nothing and the ``om`` operator
commands see the same data.  On startup the runtime's loop starts in a background thread (the
same process), on shutdown it stops; the caller that made the runtime closes it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from om_dsl import __version__
from om_dsl.errors import OmError
from om_dsl.logfields import fields
from om_dsl.orders.decompose import Decomposer
from om_dsl.runtime.downstream.systems import unset_variables_warning
from om_dsl.runtime.events import (
    ITEM_STATE,
    ORDER_AMENDED,
    ORDER_STATE,
    LifecycleEvent,
    Listener,
)
from om_dsl.runtime.handlers import missing_handlers_warning
from om_dsl.runtime.inventory_view import INVENTORY_PATH
from om_dsl.runtime.notify.tmf import OrderViews
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.states import ItemState, OrderState
from om_dsl.service import cancellation, errors, openapi
from om_dsl.service.auth import TokenCheck
from om_dsl.service.cancel_records import CancelRecord, CancelRecords
from om_dsl.service.config import ServiceConfig
from om_dsl.service.context import Service
from om_dsl.service.json_bodies import JsonBodies
from om_dsl.service.limits import BodyLimit
from om_dsl.service.order_requests import OrderRequests
from om_dsl.service.roles import RouteRoles
from om_dsl.service.routes import (
    INVENTORY_BASES,
    INVENTORY_ROUTERS,
    ROUTERS,
    TMF_BASE,
    TMF_ROUTERS,
)
from om_dsl.service.token_first import TokenFirst

log = logging.getLogger("om_dsl.service")
TITLE = "om_dsl order management: TMF622 Product Ordering"
DESCRIPTION = """TMF622 v4 product ordering (`/productOrder`, `/cancelProductOrder`, `/hub`;
also under the TMF base path `/tmf-api/productOrderingManagement/v4`) over the om_dsl runtime,
the TMF637 v4 product inventory (`/productInventory/v4/product`, read only, and its
`/productInventory/v4/hub` for product events), plus the operations API (manual tasks, fallout,
systems, event logs, live plan diagrams).  Async callouts call back at
`POST /callbacks/{token}` (the token is the credential).  Every other route but `/health` and
`/ready` needs `Authorization: Bearer <token>` unless the service runs in loopback-only dev
mode, and a token whose role is at least the one the route names (`x-om-role`: read < client <
operator < admin; a 403 otherwise).  Request bodies are read as JSON whatever their
`Content-Type` says.  Errors are TMF `Error` bodies."""


def create_app(runtime: Runtime, config: ServiceConfig | None = None) -> FastAPI:
    """The service's ASGI app for ``runtime`` (which must have a catalog to plan orders with).

    Args:
        runtime: the embedded runtime; its loop is started and stopped with the app unless
            ``config.start_runtime`` is False.  Async callouts' callbacks come to this app:
            ``runtime.callbacks.base_url`` is set to the service's URL unless already set.
        config: listen address, tokens, public URL and limits (``ServiceConfig()``: dev mode
            on 127.0.0.1:8080).

    Raises:
        ValueError: the runtime has no catalog, or the settings must not run.
    """
    config = config or ServiceConfig()
    config.check()
    svc = _service(runtime, config)
    # redirect_slashes=False: Starlette answered `/productOrder/O1/` with a 307 to the client's
    # own Host header, before authentication; a path the API does not have is a 404, as any
    # other (the included routes are dispatched by this router, not by their APIRouters)
    app = FastAPI(title=TITLE, version=__version__, description=DESCRIPTION,
                  lifespan=_lifespan(svc), redoc_url=None, redirect_slashes=False)  # fmt: skip
    app.state.om_service = svc
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    for router in TMF_ROUTERS:  # the same routes again; the OpenAPI document lists them once
        app.include_router(router, prefix=TMF_BASE, include_in_schema=False)
    for n, base in enumerate(INVENTORY_BASES):
        for router in INVENTORY_ROUTERS:
            app.include_router(router, prefix=base, include_in_schema=n == 0)
    app.state.om_roles = RouteRoles(app)
    app.state.om_methods = methods = errors.MethodTable()
    methods.add(ROUTERS)
    methods.add(TMF_ROUTERS, TMF_BASE)
    for base in INVENTORY_BASES:
        methods.add(INVENTORY_ROUTERS, base)
    # innermost first: TokenFirst reads the route the router writes into its scope, and
    # JsonBodies hands the app a copy of the scope
    app.add_middleware(TokenFirst)
    app.add_middleware(JsonBodies)
    app.add_middleware(errors.CatchAll)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _service(runtime: Runtime, config: ServiceConfig) -> Service:
    if runtime.catalog is None:
        raise ValueError("the service needs a runtime with a catalog to plan new orders with")
    base = config.base_url()
    if runtime.callbacks.base_url is None:
        runtime.callbacks.base_url = base
    views = runtime.notifications.views  # one set of views: GET and events agree, href too
    views.href_base = f"{base}/productOrder"
    records = CancelRecords(runtime.store)
    pending: dict[str, CancelRecord] = {}
    views.cancel_base = f"{base}/cancelProductOrder"
    views.cancel_fields = cancellation.client_fields(records, pending)
    products = runtime.notifications.products  # TMF637 events: GET's hrefs too
    products.href_base, products.order_base = f"{base}{INVENTORY_PATH}", views.href_base
    runtime.add_listener(_forget_amended(views))
    runtime.add_listener(log_milestones)
    return Service(
        runtime=runtime,
        config=config,
        decomposer=Decomposer(runtime.catalog),
        views=views,
        tokens=TokenCheck(config.tokens, config.role_of),
        base_url=base,
        cancels=records,
        cancel_pending=pending,
        requests=OrderRequests(runtime.store),
    )


def _forget_amended(views: OrderViews) -> Listener:
    """An amendment (by the host too, not only by PATCH) replaces a plan the views cache."""

    def forget(event: LifecycleEvent) -> None:
        if event.kind == ORDER_AMENDED:
            views.forget(event.order_id)

    return forget


def log_milestones(event: LifecycleEvent) -> None:
    """The moments of an order an operator must hear of, in the service's log (INFO): an item
    in fallout (its retries spent, or failed for good), and an order held for an operator.
    The service logged none of its own events: only requests."""
    if event.kind == ITEM_STATE and event.to_state == ItemState.FATALLY_FAILED:
        reason = event.detail or "no reason given"
        named = fields(event="item_fallout", order_id=event.order_id, item_id=event.item_id,
                       attempt=event.attempt, reason=reason)  # fmt: skip
        log.info("order %s: item %s is in fallout: %s", event.order_id, event.item_id, reason,
                 extra=named)  # fmt: skip
    elif event.kind == ORDER_STATE and event.to_state == OrderState.HELD:
        log.info("order %s is held: an item needs an operator (GET /fallout)", event.order_id,
                 extra=fields(event="order_held", order_id=event.order_id))  # fmt: skip


def _lifespan(svc: Service) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        announce(svc.config)
        await run_in_threadpool(warn_missing_setup, svc.runtime)
        if svc.config.start_runtime:
            await run_in_threadpool(svc.runtime.start_background)
        try:
            yield
        finally:
            if svc.config.start_runtime:
                await run_in_threadpool(_stop, svc.runtime)

    return lifespan


def _stop(runtime: Runtime) -> None:
    """Stop the runtime as the service shuts down; a handler that keeps it from stopping (or
    a sync handler still running: docs/runtime.md) is logged in one line, not as a failed
    shutdown's traceback."""
    try:
        runtime.stop()
    except OmError as exc:
        log.warning("%s", exc)


def warn_missing_setup(runtime: Runtime) -> None:
    """Warn at start of the handlers that the catalog's ``auto`` items, and the unfinished items
    of the store's orders (each with its own catalog version), need and the registry lacks,
    and of the environment variables the systems need and lack, as `om run` and `om resume`
    do: such items fail only when they run, perhaps past a point of no return, and `om serve`
    used to start (and say ready) without a word."""
    try:
        names = runtime.missing_handlers() + runtime.missing_handlers_of_stored_orders()
    except OmError as exc:  # a damaged row: the order says so itself when it is loaded
        log.warning("the handlers of the stored orders could not be checked: %s", exc)
        names = []
    try:
        unset = runtime.systems.unset_variables()
    except OmError as exc:  # as above
        log.warning("the systems' environment variables could not be checked: %s", exc)
        unset = []
    for warning in (missing_handlers_warning(names), unset_variables_warning(unset)):
        if warning:
            log.warning("%s", warning)


def announce(config: ServiceConfig) -> None:
    """Say how the service is protected; dev mode is said loudly."""
    if config.dev_mode:
        log.warning(
            "DEV MODE: no API tokens are configured, so the API is open to anyone on this "
            "machine (loopback only). Set OM_TOKENS (or --tokens-file) before exposing it."
        )
    else:
        log.info("API tokens configured for %d client(s): %s", len(config.tokens),
                 config.clients_text())  # fmt: skip


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document (:mod:`om_dsl.service.openapi`), built on first use."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.document(app)
        return app.openapi_schema

    return build
