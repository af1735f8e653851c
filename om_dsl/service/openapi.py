"""The service's OpenAPI document: FastAPI's, made to say what the service really answers.

* ``POST /productOrder`` takes TMF622's ``ProductOrder_Create``, from the same model that
  validates orders (FastAPI cannot see it: the route reads the raw body).
* FastAPI declares a 422 on every operation with input; the service never sends that one
  (its handlers turn validation errors into 400 TMF errors), so those 422s and their schemas
  go.  A 422 a route declares itself (an async callout's result that cannot be mapped) stays.
* The error answers that follow from an operation's shape are declared on every operation
  that has that shape, as TMF ``Error`` bodies: 400 when it takes query parameters or a body,
  413 when it takes a body (the size limit), 401 and 403 when it needs a token (403: dev mode
  and a client not on loopback).  Routes declare only their own (404, 409, 503), and the
  operations routers a 400 for every route (each refuses a query parameter it does not read).
* Every operation declares a 503: the store may not be writable or readable now
  (``storeUnavailable``), or the runtime has stopped (``runtimeStopped``).
* Every operation that needs a token says the least role it needs
  (:data:`~om_dsl.service.roles.ROUTE_ROLES`): as ``x-om-role``, for tools, and in its
  description, for people; its 403 says it is also the answer to a token below that role.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from om_dsl.orders.tmf622 import TmfOrder
from om_dsl.service.errors import REASONS
from om_dsl.service.models import Error
from om_dsl.service.roles import ROLE_NAMES, ROUTE_ROLES

REF = "#/components/schemas/{model}"
ERROR = {"$ref": REF.format(model="Error")}
UNSENT = ("HTTPValidationError", "ValidationError")
Operation = dict[str, Any]


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (build it once: it walks every route)."""
    schema = get_openapi(title=app.title, version=app.version,
                         description=app.description, routes=app.routes)  # fmt: skip
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_model(schemas, "ProductOrder_Create", TmfOrder.model_json_schema(ref_template=REF))
    _add_model(schemas, "Error", Error.model_json_schema(ref_template=REF))
    for name in UNSENT:
        schemas.pop(name, None)
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            declare_errors(operation)
            declare_role(operation, method.upper(), path)
    return schema


def declare_role(operation: Operation, method: str, path: str) -> None:
    """State the least role the operation needs (none for an open one), and what its 403
    then means."""
    role = ROUTE_ROLES.get((method, path))
    if role is None:
        return
    operation["x-om-role"] = str(role)
    needs = (f"Needs an API token with the role `{role}` or higher "
             f"({' < '.join(ROLE_NAMES)}).")  # fmt: skip
    operation["description"] = "\n\n".join(filter(None, [operation.get("description"), needs]))
    forbidden = operation.get("responses", {}).get("403")
    if forbidden is not None:
        forbidden["description"] = (f"Forbidden: the token's role is below `{role}`; or, in dev "
                                    "mode, the client is not on loopback")  # fmt: skip


def _add_model(schemas: dict[str, Any], name: str, model: dict[str, Any]) -> None:
    schemas.update(model.pop("$defs", {}))
    schemas.setdefault(name, model)


def declare_errors(operation: Operation) -> None:
    """Drop FastAPI's 422 and declare the errors that the operation's shape makes possible."""
    answers: dict[str, Any] = operation.setdefault("responses", {})
    if _validation_answer(answers.get("422")):
        del answers["422"]
    for status in _shape_errors(operation):
        answers.setdefault(str(status), error_answer(status))


def _validation_answer(answer: dict[str, Any] | None) -> bool:
    """Whether ``answer`` is the 422 FastAPI adds for its request validation (it names one of
    the :data:`UNSENT` schemas), not one that a route declares."""
    if answer is None:
        return False
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").rsplit("/", 1)[-1] in UNSENT


def _shape_errors(operation: Operation) -> list[int]:
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", ()))
    statuses = [400] if has_body or has_query else []
    statuses += [413] if has_body else []
    statuses += [401, 403] if operation.get("security") else []
    return [*statuses, 503]


def error_answer(status: int) -> dict[str, Any]:
    return {
        "description": REASONS.get(status, "Error"),
        "content": {"application/json": {"schema": dict(ERROR)}},
    }
