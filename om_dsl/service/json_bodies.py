"""Every request body is JSON, whatever its ``Content-Type`` says.

The API speaks only JSON, but ``curl -d @order.json URL`` labels the body
``application/x-www-form-urlencoded`` and a client may send none at all.  FastAPI parses a body
as JSON only when its ``Content-Type`` says JSON; any other body reaches the model as bytes and
fails with a message about Python objects.  ``POST /productOrder`` and ``POST
/callbacks/{token}`` read their raw bytes and never looked at the header; this middleware makes
every other route do the same, in one place: it sets ``Content-Type: application/json`` on each
request before routing, so FastAPI parses every body as JSON and a body that is not JSON is a
400 with the path ``body`` (worded in :mod:`om_dsl.service.request_issues`).

The request size limit (:class:`om_dsl.service.limits.BodyLimit`) is untouched: it counts bytes
whatever the header says.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

JSON = (b"content-type", b"application/json")


class JsonBodies:
    """ASGI middleware: replaces the request's ``Content-Type`` with ``application/json``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"content-type"]
            scope = {**scope, "headers": [*headers, JSON]}
        await self.app(scope, receive, send)
