"""The host service: a TMF622 REST API (FastAPI + uvicorn) that embeds the runtime.

    from om_dsl.service import ServiceConfig, ServiceServer, create_app

    config = ServiceConfig(tokens={"crm": token, "grafana": other}, roles={"grafana": "read"})
    app = create_app(runtime, config)                                  # any ASGI server
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
from om_dsl.service.config import Clients, ServiceConfig, read_clients, read_tokens
from om_dsl.service.roles import Role
from om_dsl.service.server import ServiceServer

__all__ = [
    "Clients",
    "Role",
    "ServiceConfig",
    "ServiceServer",
    "create_app",
    "read_clients",
    "read_tokens",
]
