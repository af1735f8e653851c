"""The endpoint of asynchronous callouts: ``POST /callbacks/{token}``.

Three layers, so that each host uses what fits:

* :func:`handle_callback`: bytes in, (status, JSON) out; no web framework at all;
* :func:`callback_routes` / :func:`callback_app`: a Starlette route and app, which the HTTP
  service (``om serve``) mounts into its own app;
* :class:`CallbackServer`: the small built-in listener (uvicorn, in a thread, on a configurable
  port of 127.0.0.1 only) that ``om run`` and embedders without a web server use.

Tokens are secrets, so nothing here logs URLs (uvicorn's access log is off) and answers never
say more than "unknown or already used".  Starlette and uvicorn are core dependencies for this
listener (pyproject.toml says so).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from om_dsl.errors import NotFound, OmError, UnmappableCallback
from om_dsl.orders.body_text import body_text_issues

if TYPE_CHECKING:
    import uvicorn
from om_dsl.runtime.downstream.request import MAX_ANSWER_BYTES, parse_body

MAX_CALLBACK_BYTES = MAX_ANSWER_BYTES
"""The largest callback body taken (413 beyond): the same bound as a synchronous answer's."""
LOOPBACK = "127.0.0.1"
Receive = Callable[[str, Mapping[str, Any]], object]
"""``runtime.callback``."""
_TOO_LARGE = {"error": f"a callback body may have at most {MAX_CALLBACK_BYTES} bytes"}


def handle_callback(receive: Receive, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Apply one callback; returns the HTTP status and JSON answer (never raises for input).

    A result that cannot be mapped to the item's outputs is a 422 that says why (the item's
    attempt failed with that reason): a 200 "accepted" told the system that all was well.
    Both endpoints (:func:`callback_routes` and the service's route) answer through here.
    """
    if len(body) > MAX_CALLBACK_BYTES:
        return 413, dict(_TOO_LARGE)
    try:
        payload = parse_body(body) if body.strip() else {}
    except ValueError as exc:
        return 400, {"error": f"the callback body {exc}"}
    refused = _unsound_text(body)
    if refused is not None:
        return 400, refused
    if not isinstance(payload, dict):
        return 400, {"error": "the callback body must be a JSON object"}
    try:
        result = receive(token, payload)
    except NotFound:
        return 404, {"error": "unknown or already used callback token"}
    except UnmappableCallback as exc:
        return 422, {"error": exc.reason}
    except OmError as exc:
        return 409, {"error": str(exc)}
    return 200, {"status": "accepted", "result": str(result)}


def _unsound_text(body: bytes) -> dict[str, Any] | None:
    """The 400 answer to a body that is not UTF-8 text or gives a key twice in one object
    (the service's S010 and S026, by the check its request bodies take), or None; asked
    once the body parsed (a body that is no JSON at all is said as before).

    The parser reads UTF-16 and keeps a repeated key's last value: a UTF-16 callback
    completed its item, and ``{"status": "failed", "status": "ok"}`` completed it where a
    reader that keeps the first value (the system's audit log) saw a failure."""
    issues = body_text_issues(body)
    if not issues:
        return None
    said = "; ".join(str(issue) for issue in issues)
    return {"error": f"the callback body is refused: {said}", "code": issues[0].code}


def callback_routes(receive: Receive) -> list[Route]:
    """``POST /callbacks/{token}`` as a Starlette route (mount it in any Starlette/FastAPI app)."""

    async def endpoint(request: Request) -> JSONResponse:
        body = await _read_limited(request)
        if body is None:
            return JSONResponse(_TOO_LARGE, status_code=413)
        token = str(request.path_params["token"])
        status, answer = await run_in_threadpool(handle_callback, receive, token, body)
        return JSONResponse(answer, status_code=status)

    return [Route("/callbacks/{token}", endpoint, methods=["POST"])]


def callback_app(receive: Receive) -> Starlette:
    return Starlette(routes=callback_routes(receive))


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None when it is larger than allowed (read no further than the limit)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CALLBACK_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class CallbackServer:
    """uvicorn serving :func:`callback_app` on 127.0.0.1 in a daemon thread.

    Args:
        receive: ``runtime.callback``.
        port: the port (0 = a free one).  Use a fixed port when callbacks must find the process
            again after a restart (a system may call back while the runtime is down, and retry).
    """

    def __init__(self, receive: Receive, port: int = 0) -> None:
        self._app = callback_app(receive)
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The base URL callbacks go to (``<url>/callbacks/<token>``)."""
        if self._socket is None:
            raise RuntimeError("the callback server is not running")
        return f"http://{LOOPBACK}:{self._socket.getsockname()[1]}"

    def start(self, timeout: float = 10.0) -> str:
        """Bind, serve, and return :attr:`url` once the server accepts connections.

        Raises:
            OSError: the port is taken.
        """
        if self._server is not None:
            return self.url
        import uvicorn  # noqa: PLC0415 - only a runtime that listens needs it (55 ms to import)

        self._socket = _bind(self._port)
        config = uvicorn.Config(self._app, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="om-callbacks", daemon=True)
        self._thread.start()
        _wait(lambda: server.started or not self._thread_alive(), timeout)
        if not server.started:
            self.stop()
            raise OmError("the callback server did not start")
        return self.url

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
        if sock is not None:
            sock.close()
        self._socket = None


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # so; without it every answer waits ~40 ms for the caller's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    event = threading.Event()
    deadline = timeout
    while not condition() and deadline > 0:
        event.wait(0.01)
        deadline -= 0.01
