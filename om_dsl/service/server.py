"""Run the service with uvicorn: in the foreground (``om serve``) or in a thread (tests, the
demo, the benchmark).

The socket is bound *before* the app is built, so that a free port (``port=0``) is known when
the app computes its URLs (order ``href``, async callouts' callback base).  uvicorn's access log
is kept, with callback tokens masked: a token in a log line would be a credential in a file.
``log_format`` gives the service's log its format (:mod:`om_dsl.service.logs`: a timestamp on
every line, the runtime's own lines too); without it uvicorn's own format is kept (an embedder
configures logging its way).

The service fails fast: when the runtime's loop stops on an error (a full disk, a store that
cannot be written), the server shuts down and :attr:`ServiceServer.failure` says why, so that
``om serve`` exits non-zero and its supervisor restarts it (a restart recovers every unfinished
order).  It used to stay up with a dead runtime: ``/health`` said 200, new orders were stored
and never run, and nothing recovered until someone restarted it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from om_dsl.errors import OmError
from om_dsl.runtime.runtime import Runtime
from om_dsl.service.app import create_app
from om_dsl.service.config import ServiceConfig
from om_dsl.service.logs import filter_access_log, log_config
from om_dsl.service.slow_clients import timed_protocol

log = logging.getLogger("om_dsl.service")


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, except that Ctrl-C or SIGTERM ends :meth:`serve` normally instead of
    re-raising the signal once shut down, so that ``om serve`` still closes its runtime (the
    store, the notifier) and exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


class ServiceServer:
    """The service on ``config.host:config.port``, for one runtime.

    ``listening``: a socket bound already (:func:`listen`) to serve on, instead of binding
    one at :meth:`bind`: ``om serve`` binds first, so that a busy port stops it before it
    makes anything (a new store, its runner lock).  The server closes it when it stops.

    Raises (from :meth:`bind`):
        ValueError: the settings must not run (e.g. a public address without tokens).
        OSError: the address cannot be bound.
    """

    def __init__(
        self,
        runtime: Runtime,
        config: ServiceConfig,
        access_log: bool = True,
        log_level: str = "info",
        listening: socket.socket | None = None,
        *,
        log_format: str | None = None,
        access_log_probes: bool = True,
    ) -> None:
        config.check()
        self.runtime = runtime
        self.config = config
        self.access_log = access_log
        self.log_level = log_level
        self.log_format = log_format
        """``text`` or ``json`` (:func:`om_dsl.service.logs.log_config`); None: uvicorn's."""
        self.access_log_probes = access_log_probes
        """False: ``/health`` and ``/ready`` are logged at DEBUG (left out at INFO)."""
        self._socket: socket.socket | None = listening
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        """Why serving ended early: the runtime's loop stopped on an error, or the app did
        not start (None after a normal stop)."""
        self._unhook: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        return self.config.base_url()

    def bind(self) -> str:
        """Bind the socket, build the app for the port it got; returns the service's URL."""
        if self._server is None:
            if self._socket is None:
                self._socket = listen(self.config.host, self.config.port)
            self.config = replace(self.config, port=self._socket.getsockname()[1])
            app = create_app(self.runtime, self.config)
            self._server = _Uvicorn(self._uvicorn_config(app))
            if self.config.start_runtime and self._unhook is None:
                self._unhook = self.runtime.on_failure(self._runtime_failed)
        return self.url

    def _runtime_failed(self, exc: Exception) -> None:
        """The runtime's loop died (it logged the error): stop serving, to be restarted."""
        self.failure = exc
        log.error(
            "the service is shutting down: its runtime stopped on an error (logged above); "
            "a restart recovers every unfinished order"
        )
        server = self._server
        if server is not None:
            server.should_exit = True

    def _uvicorn_config(self, app: object) -> uvicorn.Config:
        logs = (
            LOGGING_CONFIG
            if self.log_format is None
            else log_config(self.log_level, self.log_format)
        )
        # limit_concurrency: past that many open connections the protocol answers a 503
        # serviceBusy at once, and it closes connections whose client does not send its
        # request in time (om_dsl.service.slow_clients)
        config = uvicorn.Config(app, log_level=self.log_level, access_log=self.access_log,  # type: ignore[arg-type]
                                lifespan="on", timeout_graceful_shutdown=5,
                                server_header=False, log_config=logs,
                                limit_concurrency=self.config.max_connections,
                                http=timed_protocol(self.config.client_timeout_s))  # fmt: skip
        filter_access_log(self.access_log_probes)
        return config

    def serve(self) -> None:
        """Serve in this thread until Ctrl-C / SIGTERM, or until the runtime stops on an error
        (:attr:`failure` then says why; so it does when the app failed to start)."""
        self.bind()
        server = self._server
        assert server is not None and self._socket is not None
        with contextlib.suppress(SystemExit):  # uvicorn's exit when the app did not start
            asyncio.run(server.serve(sockets=[self._socket]))
        if not server.started and self.failure is None:
            self.failure = OmError("the service did not start (its log says why)")

    def start(self, timeout: float = 30.0) -> str:
        """Serve in a daemon thread; returns the URL once the app (and its runtime) started."""
        self.bind()
        server = self._server
        assert server is not None
        self._thread = threading.Thread(target=self.serve, name="om-service", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise OmError(f"the service did not start within {timeout} s")
        return self.url

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving (the app's shutdown stops the runtime's loop)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        if self._unhook is not None:
            self._unhook()
            self._unhook = None

    def __enter__(self) -> ServiceServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port) for :class:`ServiceServer`.

    Raises:
        OSError: the address cannot be bound (in use, not local, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # so, and without it every answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
