"""Request-validation errors in the client's words: stable codes, JSON paths, JSON terms.

FastAPI and pydantic check every request body and query parameter and word what they find for
Python programmers (``model_attributes_type: Input should be a valid dictionary or object to
extract fields from``).  A client sent JSON and query strings, so each error is reworded here
from its type, the value it saw and where it was, the way order issues are
(:mod:`om_dsl.orders.shape_errors`):

======  ===========================================================================
S010    the body is not JSON (``not valid JSON: ... at line 1 column 2``)
S011    a required field is missing, or the whole body (``required field 'itemId'``)
S012    an unknown field of an operations body (with a suggestion when one is close)
S013    a value of the wrong JSON type (``expected an object, got an array``)
S014    a value out of its bounds (too long, too short, too small, too large)
S015    a value in the wrong form (``requestedCancellationDate``: not a date-time;
        ``olderThan``: not a duration)
S026    a key given twice in one object of the body (as an order's O014)
======  ===========================================================================

S010 for a body that is not UTF-8, and S026, are the check of
:func:`om_dsl.orders.body_text.body_text_issues`, which downstream callbacks take too.

Paths start with where the value was: ``body.productOrder.id``, ``query.limit``.

A number JSON has no such thing as (``NaN``, ``Infinity``), or too large for an order to hold,
is an order's O004 (:func:`body_number_issues`), whatever the body: Python's reader takes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from om_dsl.errors import OrderIssue
from om_dsl.orders.body_text import NOT_JSON
from om_dsl.orders.issues import loc_path, path_key, show
from om_dsl.orders.jsondoc import number_issues
from om_dsl.orders.shape_errors import EXPECTED, described, field_names, missing_field, model_at
from om_dsl.orders.values import did_you_mean
from om_dsl.service.models import DATE_TIME_ERROR, DURATION_ERROR

Error = Mapping[str, Any]
Loc = tuple[int | str, ...]
_EXPECTED = {
    **EXPECTED,  # and the forms of query strings (parsed) and bodies FastAPI reads itself:
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "model_attributes_type": "an object",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "of at least"),
    "greater_than": ("gt", "over"),
    "less_than_equal": ("le", "of at most"),
    "less_than": ("lt", "under"),
}


def request_issues(
    errors: Sequence[Error], body_model: type[BaseModel] | None, body: Any
) -> list[OrderIssue]:
    """FastAPI's validation errors as issues, in the order of their paths.

    Args:
        errors: ``RequestValidationError.errors()``.
        body_model: the model of the route's body, to suggest a field for an unknown one.
        body: ``RequestValidationError.body``: the text, when it is not JSON.
    """
    found = [request_issue(error, body_model, body) for error in errors]
    return sorted(found, key=lambda issue: path_key(issue.path))


def request_issue(error: Error, body_model: type[BaseModel] | None, body: Any) -> OrderIssue:
    """One of FastAPI's validation errors as an issue (see :func:`request_issues`)."""
    kind, loc = str(error.get("type", "")), tuple(error.get("loc", ()))
    path = loc_path(loc)
    if kind == "json_invalid":
        return OrderIssue(NOT_JSON, "body", _not_json(error, body))
    if kind == "missing":
        return OrderIssue("S011", path, _missing(loc))
    if kind == "extra_forbidden":
        return OrderIssue("S012", path, _unknown(loc, body_model))
    if kind in _EXPECTED:
        return OrderIssue("S013", path, f"expected {_EXPECTED[kind]}, got {_got(error)}")
    bounds = _bounds(kind, error)
    if bounds:
        return OrderIssue("S014", path, bounds)
    return OrderIssue("S015", path, _wrong_form(kind, error))


def body_number_issues(body: bytes) -> list[OrderIssue]:
    """The O004 issues of a request body (:func:`om_dsl.orders.jsondoc.number_issues`: the
    order's rule), with paths under ``body``; [] for a body without such numbers."""
    return [
        OrderIssue(issue.code, _in_body(issue.path), issue.message) for issue in number_issues(body)
    ]


def _in_body(path: str) -> str:
    if path == "$":
        return "body"
    return "body" + path if path.startswith("[") else f"body.{path}"


def undecodable_issue(cause: BaseException | None) -> OrderIssue:
    """A body that JSON could not even decode; ``cause`` is why (FastAPI answers a bare 400
    and keeps the reason as the exception's cause)."""
    if isinstance(cause, UnicodeError):
        return OrderIssue(NOT_JSON, "body", "not valid JSON: the body is not UTF-8 text")
    if isinstance(cause, RecursionError):
        return OrderIssue(NOT_JSON, "body", "not valid JSON: it is nested too deeply")
    return OrderIssue(NOT_JSON, "body", "not valid JSON: it cannot be decoded")


def _not_json(error: Error, doc: Any) -> str:
    """FastAPI's ``JSON decode error`` with what the decoder said and where (the line and
    column, as order issues give them)."""
    reason = str((error.get("ctx") or {}).get("error", "it cannot be decoded"))
    loc = tuple(error.get("loc", ()))
    pos = loc[-1] if len(loc) > 1 else None
    if isinstance(doc, str) and isinstance(pos, int):
        where = json.JSONDecodeError(reason, doc, pos)
        return f"not valid JSON: {reason} at line {where.lineno} column {where.colno}"
    return f"not valid JSON: {reason}"


def _missing(loc: Loc) -> str:
    if loc == ("body",):
        return "the request has no body; expected a JSON object"
    return missing_field(loc)


def _unknown(loc: Loc, body_model: type[BaseModel] | None) -> str:
    name = str(loc[-1])
    owner = model_at(body_model, loc[1:-1]) if body_model is not None else None
    known = field_names(owner) if owner is not None else []
    why = getattr(owner, "not_here", {}).get(name)
    return f"unknown field {show(name)}" + (f": {why}" if why else did_you_mean(name, known))


def _got(error: Error) -> str:
    """The value as JSON names it; a query parameter is always text, so it is just quoted."""
    value, loc = error.get("input"), tuple(error.get("loc", ()))
    return show(value) if loc[:1] == ("query",) else described(value)


def _bounds(kind: str, error: Error) -> str | None:
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"expected a number {words} {ctx.get(key)}, got {_got(error)}"
    text = _LENGTHS.get(kind)
    return text(ctx, error.get("input")) if text else None


def _too_short(ctx: Mapping[str, Any], value: Any) -> str:
    least = ctx.get("min_length", 1)
    if least == 1 and value == "":
        return "expected text, got an empty string"
    return f"expected at least {least} characters, got {len(value) if value else 0}"


def _too_long(ctx: Mapping[str, Any], value: Any) -> str:
    return f"expected at most {ctx.get('max_length')} characters, got {len(value or '')}"


_LENGTHS: dict[str, Callable[[Mapping[str, Any], Any], str]] = {
    "string_too_short": _too_short,
    "string_too_long": _too_long,
}


def _wrong_form(kind: str, error: Error) -> str:
    """Our own checks word their messages for clients; anything else is said generically."""
    if kind in (DATE_TIME_ERROR, DURATION_ERROR):
        return str(error.get("msg"))
    return f"{_got(error)} is not allowed here"
