"""Shape errors in the client's words: what was expected where, never a Python class name.

Pydantic finds the shape errors of an order (a missing field, an unknown one, a value of the
wrong JSON type) and words them for Python programmers: ``Input should be a valid dictionary
or instance of TmfRef``.  A client wrote JSON, so each error is reworded here from its type,
the JSON value it saw and the model field it hit (a model says what it stands for in its
``what`` class variable), and located by its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel

from om_dsl.orders.issues import IssueLog, loc_path, show
from om_dsl.orders.values import did_you_mean

Loc = tuple[int | str, ...]

_CODES = {"missing": "O010", "extra_forbidden": "O011"}
EXPECTED = {
    "string_type": "text (a string)",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "list_type": "an array",
    "model_type": "an object",
}
"""What a value of the wrong JSON type should have been, by pydantic's error type (the service
words its request errors with it too: om_dsl/service/request_issues.py)."""


def add_shape_errors(
    log: IssueLog, errors: Sequence[Mapping[str, Any]], model: type[BaseModel]
) -> None:
    """Each of pydantic's ``errors`` (``ValidationError.errors()`` of ``model``) as an issue."""
    for error in errors:
        loc: Loc = tuple(error["loc"])
        code = _CODES.get(str(error["type"]), "O012")
        log.add(code, loc_path(loc), shape_message(error, model))


def shape_message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """One error in JSON terms: what the field expects and what it got."""
    kind, loc, value = str(error["type"]), tuple(error["loc"]), error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return missing_field(loc)
    if kind == "extra_forbidden":
        return _unknown_field(loc, model)
    if kind in EXPECTED:
        return f"expected {_expected(kind, loc, model)}, got {described(value)}"
    if kind == "string_too_short":
        return "expected text, got an empty string"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"expected at least {least} entr{'y' if least == 1 else 'ies'}, got none"
    if kind == "value_error":  # a model's own check (a requested date): its message is JSON's
        return str(ctx.get("error", "")) or f"{described(value)} is not allowed here"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'another value')}, got {described(value)}"
    return f"{described(value)} is not allowed here"


def missing_field(loc: Loc) -> str:
    return f"required field {show(str(loc[-1]))} is missing"


def field_names(model: type[BaseModel]) -> list[str]:
    """The fields of ``model`` as a document names them (for a did-you-mean)."""
    return list(_fields(model))


def described(value: Any) -> str:
    """A JSON value as a message names it: ``string 'x'``, ``number 7``, ``an array``."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, tuple):  # parsed data only; "expected an array, got an array" was
        return "a tuple"  # all a host that built its order in Python was told
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return f"number {show(value)}"
    return f"string {show(value)}" if isinstance(value, str) else show(value)


def _expected(kind: str, loc: Loc, model: type[BaseModel]) -> str:
    what = EXPECTED[kind]
    if kind == "model_type":
        inner = model_at(model, loc)
        meaning = getattr(inner, "what", "") if inner is not None else ""
        return f"{what} ({meaning})" if meaning else what
    return what


def _unknown_field(loc: Loc, model: type[BaseModel]) -> str:
    name = str(loc[-1])
    owner = model_at(model, loc[:-1])
    known = field_names(owner) if owner is not None else []
    return f"unknown field {show(name)}: the native order format does not have it" + (
        did_you_mean(name, known)
    )


def model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model of the value at ``loc`` (list positions keep the element's model), or None
    where the value is not a model (a plain object or a scalar)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, str):
            field = _fields(current).get(part)
            current = None if field is None else _inner_model(field.annotation)
    return current


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields by the name a document uses (the alias, where there is one)."""
    return {f.alias or name: f for name, f in model.model_fields.items()}


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
