"""The host service: a TMF622 REST API (FastAPI + uvicorn) that embeds the runtime.

    from om_dsl.service import ServiceConfig, ServiceServer, create_app

    app = create_app(runtime, ServiceConfig(tokens={"crm": token}))   # any ASGI server
    ServiceServer(runtime, config).serve()                             # or uvicorn, as om serve

FastAPI comes with the optional ``service`` extra (``pip install 'om-dsl[service]'``); the rest
of om_dsl never imports this package, so it works without it.  See docs/service.md.
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the om_dsl service needs FastAPI: install the service extra, "
        "e.g. pip install 'om-dsl[service]'"
    ) from exc

from om_dsl.service.app import create_app
from om_dsl.service.config import ServiceConfig, read_tokens
from om_dsl.service.server import ServiceServer

__all__ = ["ServiceConfig", "ServiceServer", "create_app", "read_tokens"]
