"""The loopback HTTP plumbing under every simulator: sockets, threads, JSON framing.

Only the standard library is used (``ThreadingHTTPServer``), and only 127.0.0.1 is ever bound, so
a simulator can never be reached from outside the machine.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit

from .core import HttpError, Reply, Request

HOST = "127.0.0.1"
MAX_BODY_BYTES = 10 * 1024 * 1024

log = logging.getLogger("simulators")


class LoopbackServer:
    """Lifecycle shared by simulators and the listener: start on a port, stop, context manager.

    Subclasses implement :meth:`handle`. ``stopping`` is set on :meth:`stop` so that requests
    that sleep on purpose (latency, timeouts, callback delays) wake up at once.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: Request) -> Reply:
        """Answer one request; raising :class:`HttpError` is fine, tracebacks become a 500."""
        raise NotImplementedError

    def start(self, port: int = 0) -> Self:
        """Bind 127.0.0.1:``port`` (0 picks a free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{self.name} simulator already started")
        self.stopping.clear()
        self._server = _Server(self, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sim-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        if self._server is None:
            raise RuntimeError(f"{self.name} simulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    def stop(self) -> None:
        """Stop serving and wake every sleeping request; safe to call twice."""
        self.stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.on_stop()

    def on_stop(self) -> None:
        """Hook for subclasses that own extra threads or clients."""

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    """A threading server that knows its owner and accepts bursts of connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, owner: LoopbackServer, port: int) -> None:
        self.owner = owner
        super().__init__((HOST, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP/1.1 keep-alive requests into :class:`Request` objects and back."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid 40 ms stalls
    server_version = "om-simulator/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; the request log is queryable instead."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests and unknown methods get JSON too, never the default HTML page."""
        self.close_connection = True
        self._write(Reply(code, {"error": message or self.responses.get(code, ("error",))[0]}))

    def _dispatch(self) -> None:
        owner = cast(_Server, self.server).owner
        try:
            reply = owner.handle(self._read_request())
        except HttpError as exc:
            reply = Reply(exc.status, exc.body)
        except Exception:
            log.exception("%s simulator: handler crashed", owner.name)
            reply = Reply(500, {"error": "internal simulator error"})
        self._write(reply)

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        return Request(
            method=self.command,
            path=parts.path or "/",
            query=dict(parse_qsl(parts.query)),
            headers=list(self.headers.items()),
            raw_body=self._read_body(),
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise HttpError(413, "request body too large", limit=MAX_BODY_BYTES)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()  # trailing CRLF (no trailers expected)
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                # Say so: a client that is not told may reuse the socket we are closing.
                self.send_header("Connection", "close")
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)
