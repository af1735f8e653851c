"""`om serve`: the TMF622 REST API with the runtime embedded (needs the `service` extra).

Every option can also come from the environment (`OM_CATALOG`, `OM_DB`, `OM_HOST`, ...; see
docs/service.md).  API tokens come only from `OM_TOKENS` or a tokens file, never from the command
line.  Without tokens the service runs in dev mode, which it says loudly, and it refuses to
listen on anything but loopback.

Exit codes (docs/service.md): 0 after SIGTERM or Ctrl-C; 1 when it refuses to start (the port,
the store, the catalog); 2 for a usage error (an option, the tokens); 4 when its runtime
stopped on an error while it served, so that a supervisor restarts it.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from om_dsl.cli.app import EXIT_STOPPED, EXIT_USAGE, app, err, fail, one_of
from om_dsl.cli.common import CATALOG_HELP, load_catalog_arg
from om_dsl.cli.order_args import installed_base_or_fail
from om_dsl.cli.runtime_args import (
    NotifyAttemptsOption,
    NotifyOption,
    RestoredOption,
    close_runtime,
    in_lines,
    load_handlers,
    notify_settings,
)
from om_dsl.errors import OmError
from om_dsl.ir.models import Catalog
from om_dsl.runtime.downstream.world import DownstreamSettings
from om_dsl.runtime.handlers import HandlerRegistry
from om_dsl.runtime.runtime import Runtime
from om_dsl.runtime.store.restore import StoreIsBackup
from om_dsl.runtime.store.runner_lock import refuse_backup_file
from om_dsl.runtime.store.sqlite import SqliteStore, StoreError

if TYPE_CHECKING:
    from om_dsl.service.config import ServiceConfig
    from om_dsl.service.server import ServiceServer

MIB = 1024 * 1024
EXIT_RUNTIME_STOPPED = EXIT_STOPPED
"""`om serve`'s exit code when its runtime stopped on an error (or could not start): restart
it, its recovery takes the unfinished orders back (1 and 2 are refusals to start; 3 is a bug)."""


@app.command("serve")
def serve_cmd(
    catalog: Annotated[Path, typer.Option(envvar="OM_CATALOG", help=CATALOG_HELP)],
    db: Annotated[Path, typer.Option(envvar="OM_DB", help="The SQLite store.")] = Path("om.db"),
    host: Annotated[str, typer.Option(envvar="OM_HOST", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="OM_PORT", help="Port (0 = a free one).")] = 8080,
    tokens_file: Annotated[
        Path | None,
        typer.Option(
            envvar="OM_TOKENS_FILE",
            help="API tokens, one name:token per line (as well as, or instead of, OM_TOKENS).",
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(envvar="OM_PUBLIC_URL", help="The URL clients and callbacks reach."),
    ] = None,
    handlers: Annotated[
        str | None,
        typer.Option(
            envvar="OM_HANDLERS",
            help="module:registry, the handlers of auto items (`stub`: each completes with no "
            "outputs).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(envvar="OM_CONCURRENCY", min=1, help="Items running at once.")
    ] = 16,
    notify: NotifyOption = None,
    notify_attempts: NotifyAttemptsOption = 12,
    max_body_bytes: Annotated[
        int, typer.Option(envvar="OM_MAX_BODY_BYTES", help="Largest request body accepted.")
    ] = MIB,
    max_connections: Annotated[
        int,
        typer.Option(
            envvar="OM_MAX_CONNECTIONS",
            min=1,
            help="Open connections past which a request gets a 503 at once.",
        ),
    ] = 1000,
    client_timeout: Annotated[
        float,
        typer.Option(
            envvar="OM_CLIENT_TIMEOUT",
            min=0.001,
            help="Seconds a client has to send its request headers (and may pause its body).",
        ),
    ] = 30.0,
    access_log: Annotated[
        bool,
        typer.Option(envvar="OM_ACCESS_LOG", help="Log every request (callback tokens masked)."),
    ] = True,
    access_log_probes: Annotated[
        bool,
        typer.Option(
            envvar="OM_ACCESS_LOG_PROBES",
            help="Log /health and /ready requests too (else only at --log-level debug).",
        ),
    ] = True,
    log_level: Annotated[
        str,
        typer.Option(envvar="OM_LOG_LEVEL", help="critical, error, warning, info or debug."),
    ] = "info",
    log_format: Annotated[
        str,
        typer.Option(envvar="OM_LOG_FORMAT", help="text (one line per event) or json."),
    ] = "text",
    installed_base: Annotated[
        Path | None,
        typer.Option(
            envvar="OM_INSTALLED_BASE",
            help="JSON: the lines accounts have before an order, {account: {product: {...}}}.",
        ),
    ] = None,
    restored: RestoredOption = False,
) -> None:
    """Serve the TMF622 product-ordering API and run the orders it takes.

    API tokens come from OM_TOKENS and/or --tokens-file, never from the command line.

    OM_TOKENS holds name:token entries separated by commas: OM_TOKENS=crm:<token>,ops:<token>.

    A role may follow the name, grafana/read:<token>: read, client, operator (the default), admin.

    Each client needs a name: it is who the store records for every action the client takes.

    Without tokens the service runs in dev mode, on loopback only.
    """
    # One sentence per paragraph: the help keeps a docstring's line breaks (test_help_text.py).
    _require_fastapi()
    from om_dsl.service import ServiceServer  # noqa: PLC0415 - FastAPI is optional
    from om_dsl.service.logs import FORMATS, LEVELS  # noqa: PLC0415 - FastAPI is optional

    level = one_of(log_level.lower(), LEVELS, "log level")
    fmt = one_of(log_format.lower(), FORMATS, "log format")
    config = _config(
        host, port, tokens_file, public_url, max_body_bytes, max_connections, client_timeout
    )
    ir = load_catalog_arg(catalog)
    config = replace(config, installed_base=installed_base_or_fail(installed_base, ir))
    registry = load_handlers(handlers)
    # Everything that can refuse to start does so before the store is made: a busy port used
    # to leave a new store file and its runner lock behind.
    with _listening(host, port) as sock:
        config = replace(config, port=sock.getsockname()[1])
        runtime = _service_runtime(ir, db, registry, concurrency, notify, restored, notify_attempts)
        try:
            server = ServiceServer(runtime, config, access_log=access_log, log_level=level,
                                   listening=sock, log_format=fmt,
                                   access_log_probes=access_log_probes)  # fmt: skip
            _banner(server, catalog, db)
            server.serve()
        finally:
            close_runtime(runtime)
    if server.failure is not None:
        sys.exit(EXIT_RUNTIME_STOPPED)


def _require_fastapi() -> None:
    """FastAPI is an optional extra: say how to get it rather than fail on an import."""
    try:
        import om_dsl.service  # noqa: F401, PLC0415 - FastAPI is optional
    except ImportError as exc:
        fail(str(exc))


def _config(
    host: str,
    port: int,
    tokens_file: Path | None,
    public_url: str | None,
    max_body_bytes: int,
    max_connections: int,
    client_timeout: float,
) -> ServiceConfig:
    from om_dsl.service import ServiceConfig, read_clients  # noqa: PLC0415 - optional

    try:
        clients = read_clients(os.environ.get("OM_TOKENS"), tokens_file)
        for warning in clients.warnings:  # valid entries, probably not what was meant
            err.print(f"warning: {warning}", markup=False, highlight=False)
        config = ServiceConfig(host=host, port=port, tokens=clients.tokens, roles=clients.roles,
                               public_url=public_url,
                               max_body_bytes=max_body_bytes, max_connections=max_connections,
                               client_timeout_s=client_timeout)  # fmt: skip
        config.check()
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    return config


def _service_runtime(
    ir: Catalog,
    db: Path,
    registry: HandlerRegistry,
    concurrency: int,
    notify: list[str] | None,
    restored: bool,
    notify_attempts: int = 12,
) -> Runtime:
    """The runtime the service runs; the app gives it the service's URLs (callbacks, hrefs)
    once the socket is bound and the port known.  ``restored``: the store is a backup put in
    place of its store, accepted as such (:mod:`om_dsl.runtime.store.restore`)."""
    settings = notify_settings(notify, notify_attempts)  # refused: no store made
    downstream = DownstreamSettings(notify=settings)
    try:
        if not restored:  # a backup copy, read before opening it to write changes it
            refuse_backup_file(db)
        store = SqliteStore(db, restored=restored)
    except StoreIsBackup as exc:
        fail(str(exc), lines=in_lines(exc))
    except StoreError as exc:
        fail(str(exc))
    runtime = Runtime(
        ir, store=store, handlers=registry, concurrency=concurrency, downstream=downstream
    )
    try:  # another process running this store, or a backup copy: say so before serving
        runtime.claim_store()
    except OmError as exc:  # exit 1, not 7 or 6 (`om`): service.md's "refused to start"
        close_runtime(runtime)
        fail(str(exc), lines=in_lines(exc))
    return runtime


@contextmanager
def _listening(host: str, port: int) -> Iterator[socket.socket]:
    """The service's socket, bound before anything is made; closed at the end."""
    from om_dsl.service.server import listen  # noqa: PLC0415 - FastAPI is optional

    try:
        sock = listen(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    with sock:
        yield sock


def _banner(server: ServiceServer, catalog: Path, db: Path) -> None:
    """What is served, where, and who may call it; with ``--log-format json``, as JSON lines
    like every other line of the log, so that a log pipeline reads each of them."""
    from om_dsl.service.logs import json_line  # noqa: PLC0415 - FastAPI is optional

    config = server.config
    lines = [
        f"om serve: {server.url} (catalog {catalog}, store {db})",
        f"  OpenAPI: {server.url}/docs; callbacks: {server.url}/callbacks/<token>",
    ]
    if not config.dev_mode:
        lines.append(f"  {len(config.tokens)} API client(s): {config.clients_text()}")
    if server.log_format == "json":
        for line in lines:
            err.print(json_line(logging.INFO, line.strip()), markup=False, highlight=False)
    else:
        for line in lines:
            err.print(line, markup=False, highlight=False)
    if config.dev_mode and server.log_format != "json":
        err.print(
            "[bold yellow]  DEV MODE: no API tokens (OM_TOKENS / --tokens-file), so anyone on "
            "this machine can use the API; it listens on loopback only.[/]",
            markup=True,
        )
