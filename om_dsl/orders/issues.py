"""Collecting order problems with their JSON paths, so that one pass reports all of them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from om_dsl.errors import OrderIssue, OrderValidationError

Path = str
"""A JSON path as users read it: ``productOrderItem[2].product.productCharacteristic[0]``."""


_PLAIN = re.compile(r"^[A-Za-z_@$][A-Za-z0-9_@$-]*$")


_plain_names: dict[str, bool] = {}


def key(path: Path, name: str) -> Path:
    """``path.name`` (just ``name`` at the top level); odd names are quoted: ``path["a.b"]``."""
    plain = _plain_names.get(name)
    if plain is None:
        plain = bool(_PLAIN.match(name))
        if len(_plain_names) < 10_000:  # field and attribute names repeat; values do not
            _plain_names[name] = plain
    if not plain:
        return f"{path}[{json.dumps(name)}]"
    return f"{path}.{name}" if path else name


_PART = re.compile(r'\[(\d+)\]|(\["(?:[^"\\]|\\.)*"\])|\.?([^.\[]+)')


def path_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts paths in document order: ``items[2]`` before ``items[10]``, an
    object before its fields (``$``, the whole document, first); names sort by their text."""
    if path == "$":
        return ()
    return tuple(
        (0, int(m[1])) if m[1] is not None else (1, m[2] if m[2] is not None else m[3])
        for m in _PART.finditer(path)
    )


def index(path: Path, i: int) -> Path:
    return f"{path}[{i}]"


def show(value: object, limit: int = 60) -> str:
    """A value quoted for a message, in JSON terms (``true``, ``false``, ``null``, never
    Python's ``True``/``None``): text quoted with escapes for odd characters, long text cut.

    The one way values are shown: order issues, and the constraint checks the compiler shares
    (:mod:`om_dsl.ir.constraints`)."""
    text = _json_terms(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_terms(value: object) -> str:
    if isinstance(value, str):
        return ascii(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_json_terms, value)) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_json_terms(k)}: {_json_terms(v)}" for k, v in value.items()) + "}"
        )
    return repr(value)


@dataclass(slots=True)
class IssueLog:
    """Every problem found so far; ``raise_if_any`` ends validation with all of them."""

    issues: list[OrderIssue] = field(default_factory=list)

    def add(self, code: str, path: Path, message: str) -> None:
        self.issues.append(OrderIssue(code, path or "$", message))

    def __bool__(self) -> bool:
        return bool(self.issues)

    def raise_if_any(
        self,
        by_path: bool = False,
        error: Callable[[list[OrderIssue]], Exception] = OrderValidationError,
    ) -> None:
        """Raise ``error`` with every issue; ``by_path`` lists them in document order (see
        :func:`path_key`), the issues of one place in the order they were found, and O000
        ("more problems not shown") last."""
        if self.issues:
            issues = sorted(self.issues, key=_document_order) if by_path else self.issues
            raise error(list(issues))


def _document_order(issue: OrderIssue) -> tuple[bool, tuple[tuple[int, int | str], ...]]:
    return issue.code == "O000", path_key(issue.path)


def json_type(value: object) -> str:
    """The JSON name of a value's type, as a client would say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):  # a tuple is no JSON array: "expected an array, got array"
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def typed(value: object) -> str:
    """A value with its JSON type, as a message says what it got: ``string 'x'``, ``number
    7``, ``array [1]``; null alone (``null null`` said it twice)."""
    return "null" if value is None else f"{json_type(value)} {show(value)}"


def loc_path(loc: tuple[int | str, ...], prefix: Path = "") -> Path:
    """A pydantic error location as a JSON path."""
    path = prefix
    for part in loc:
        path = index(path, part) if isinstance(part, int) else key(path, part)
    return path
