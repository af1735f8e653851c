"""Reading an order's JSON text safely: size, encoding, syntax, depth, numbers and unicode.

``json.loads`` alone turns hostile input into tracebacks (``RecursionError`` for deep nesting,
``ValueError`` past 4,300 digits) or into values that break later (``NaN``, ``Infinity``, lone
surrogates that cannot be written back as UTF-8).  This module turns each of those into an
:class:`~om_dsl.errors.OrderIssue` with a JSON path, before any other stage sees the data.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from om_dsl.errors import OrderIssue, OrderValidationError
from om_dsl.orders.issues import IssueLog, Path, index, key, show
from om_dsl.orders.limits import DEFAULT_LIMITS, Limits
from om_dsl.orders.screen import may_repeat_keys, needs_walk, utf8

MAX_REPORTED = 100
"""A broken 10 MB payload could have a million problems; nobody reads past the first hundred."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class BadNumber:
    """A number JSON can write but an order cannot hold; reported with its path by the walk."""

    text: str
    reason: str


def load_document(raw: str | bytes | Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The order document as Python data, or :class:`OrderValidationError` listing every problem.

    Args:
        raw: JSON text (``str`` or UTF-8 ``bytes``; a leading BOM is allowed), or data that was
            already parsed (a dict from a web framework): that is checked the same way.
        limits: Size and shape bounds.
    """
    log = IssueLog()
    walk = True
    if isinstance(raw, str | bytes | bytearray):
        data, walk = _parse(raw, limits, log)
        log.raise_if_any()
    else:
        data = raw
    if walk:
        _Walk(limits, log).run(data)
        log.raise_if_any(by_path=True)  # a duplicate key is found when its object closes
    return data


def data_issues(data: Any, limits: Limits = DEFAULT_LIMITS) -> list[OrderIssue]:
    """What the walk finds in JSON data that is not an order (an installed base): keys given
    twice (O014, when parsed with ``object_pairs_hook=repeated_pairs``), numbers JSON cannot
    hold (O004), strings too long, keys that are not text, nesting too deep; in document
    order."""
    log = IssueLog()
    _Walk(limits, log).run(data)
    try:
        log.raise_if_any(by_path=True)
    except OrderValidationError as exc:
        return list(exc.issues)
    return []


def number_issues(raw: str | bytes, limits: Limits = DEFAULT_LIMITS) -> list[OrderIssue]:
    """The numbers of a JSON text that an order could not hold either (O004, with their JSON
    paths): ``NaN``, ``Infinity``, a float too large, an integer of more than
    ``limits.max_int_digits`` digits.  [] for a text that holds none, or that is not JSON
    (whoever reads it says why).

    For JSON that another reader parses (the service's request bodies): Python's reader takes
    ``NaN`` and ``1e999`` as floats, which reached the runtime and were refused there as a
    conflict, or were kept and written out as invalid JSON.  The same hooks, walk and words as
    an order's numbers, so the two cannot drift apart.
    """
    try:
        text = raw if isinstance(raw, str) else _as_json_reads(bytes(raw))
        if not needs_walk(text, limits):  # the cheap screen: most texts are clean
            return []
        data = json.loads(
            text,
            parse_int=_int_parser(limits.max_int_digits),
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except (ValueError, RecursionError):  # not JSON (or not UTF-8): not a number problem
        return []
    log = IssueLog()
    _Numbers(limits, log).run(data)
    return log.issues


def _as_json_reads(raw: bytes) -> str:
    """Bytes as text the way ``json.loads`` reads them (a BOM, UTF-16 and UTF-32 too), so
    that every body the other reader took is screened."""
    return raw.decode(json.detect_encoding(raw), "surrogatepass")


def _parse(raw: str | bytes | bytearray, limits: Limits, log: IssueLog) -> tuple[Any, bool]:
    """The parsed data, and whether it still needs the walk (see :mod:`.screen`)."""
    if len(raw) > limits.max_bytes or (
        isinstance(raw, str)
        and len(raw) * 4 > limits.max_bytes
        and _utf8_size(raw) > limits.max_bytes
    ):
        size = len(raw) if not isinstance(raw, str) else _utf8_size(raw)
        log.add("O002", "$", f"the order is {size:,} bytes; the limit is {limits.max_bytes:,}")
        return None, False
    text = _decode(raw, log) if not isinstance(raw, str) else raw
    if text is None:
        return None, False
    return _read_text(text.removeprefix("\ufeff"), limits, log)


def _read_text(text: str, limits: Limits, log: IssueLog) -> tuple[Any, bool]:
    """Parsed at C speed with the cheap screens; parsed again, keeping each object's keys as
    written, only when a screen cannot rule out a repeated key (see :mod:`.screen`)."""
    data = utf8(text)
    walk = needs_walk(text, limits, data)
    sizes: list[int] = []
    parsed = _loads(text, limits, log, checked=walk, object_hook=_counting(sizes))
    if parsed is None or not may_repeat_keys(data, sum(sizes)):
        return parsed, walk
    return _loads(text, limits, log, checked=True, object_pairs_hook=repeated_pairs), True


def _utf8_size(text: str) -> int:
    return len(utf8(text))


def _decode(raw: bytes | bytearray, log: IssueLog) -> str | None:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        log.add("O001", "$", f"the order is not UTF-8 text (bad byte at offset {exc.start})")
        return None


def _loads(text: str, limits: Limits, log: IssueLog, checked: bool, **hooks: Any) -> Any:
    """``json.loads`` with ``hooks``; ``checked`` adds the number hooks (only a flagged text
    needs them)."""
    if not text.strip():
        log.add("O001", "$", "the order is empty; expected a JSON object")
        return None
    try:
        if not checked:
            return json.loads(text, **hooks)
        return json.loads(
            text,
            parse_int=_int_parser(limits.max_int_digits),
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            **hooks,
        )
    except json.JSONDecodeError as exc:
        log.add("O001", "$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        log.add("O003", "$", f"the order is nested too deeply; the limit is {limits.max_depth}")
    return None


def _counting(sizes: list[int]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An ``object_hook`` that notes how many keys each object kept, for
    :func:`~om_dsl.orders.screen.may_repeat_keys` (a closure: the cheapest hook measured)."""
    note = sizes.append

    def hook(obj: dict[str, Any]) -> dict[str, Any]:
        note(len(obj))
        return obj

    return hook


class Repeated(dict[str, Any]):
    """An object that gives a key more than once; the last value is kept, as ``json.loads``
    keeps it, and ``repeated`` (name -> how many times) is reported by the walk."""

    repeated: dict[str, int]


def repeated_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An ``object_pairs_hook``: a plain dict, or a :class:`Repeated` one (orders, and the
    service's request bodies and downstream callbacks:
    :func:`om_dsl.orders.body_text.body_text_issues`)."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    counts = Counter(name for name, _ in pairs)
    out = Repeated(obj)
    out.repeated = {name: n for name, n in counts.items() if n > 1}
    return out


def _int_parser(max_digits: int) -> Any:
    def parse_int(text: str) -> int | BadNumber:
        if len(text.lstrip("-")) > max_digits:
            return BadNumber(text, f"has {len(text.lstrip('-'))} digits; the limit is {max_digits}")
        return int(text)

    return parse_int


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text, "is too large for a number")


def _parse_constant(text: str) -> BadNumber:
    return BadNumber(text, "is not a JSON number (NaN and Infinity are not allowed)")


class _Walk:
    """One iterative pass over the data (no recursion): depth, numbers, strings and keys."""

    def __init__(self, limits: Limits, log: IssueLog) -> None:
        self.limits = limits
        self.log = log

    def run(self, data: Any) -> None:
        stack: list[tuple[Any, Path, int]] = [(data, "", 1)]
        while stack and len(self.log.issues) < MAX_REPORTED:
            value, path, depth = stack.pop()
            if isinstance(value, Mapping):
                if self._deep(path, depth):
                    continue
                if isinstance(value, Repeated):
                    self._repeated(value, path)
                for name, item in reversed(list(value.items())):
                    self._string(name, path, "key")
                    stack.append((item, key(path, str(name)), depth + 1))
            elif isinstance(value, list | tuple):
                if self._deep(path, depth):
                    continue
                stack.extend(
                    (item, index(path, i), depth + 1)
                    for i, item in reversed(list(enumerate(value)))
                )
            else:
                self._scalar(value, path)
        if len(self.log.issues) >= MAX_REPORTED:
            self.log.add("O000", "$", f"more problems not shown (the first {MAX_REPORTED} are)")

    def _deep(self, path: Path, depth: int) -> bool:
        if depth <= self.limits.max_depth:
            return False
        self.log.add(
            "O003", path, f"nested more than {self.limits.max_depth} levels deep; that is the limit"
        )
        return True

    def _repeated(self, value: Repeated, path: Path) -> None:
        for name, times in value.repeated.items():
            self.log.add(
                "O014", key(path, name),
                f"the key {show(name)} is given {times} times in this object; give it once "
                "(JSON readers disagree on which value counts)",
            )  # fmt: skip

    def _scalar(self, value: Any, path: Path) -> None:
        if isinstance(value, str):
            self._string(value, path, "string")
        elif isinstance(value, BadNumber):
            self.log.add("O004", path, f"the number {show(value.text, 40)} {value.reason}")
        elif isinstance(value, float) and not math.isfinite(value):
            self.log.add("O004", path, f"{value} is not a JSON number")

    def _string(self, text: Any, path: Path, what: str) -> None:
        if not isinstance(text, str):
            self.log.add("O007", path, f"a {what} must be text, not {type(text).__name__}")
        elif len(text) > self.limits.max_string:
            self.log.add(
                "O005",
                path,
                f"a {what} of {len(text):,} characters; the limit is {self.limits.max_string:,}",
            )
        elif _SURROGATE.search(text):
            self.log.add(
                "O006",
                path,
                f"the {what} {show(text)} holds a lone UTF-16 surrogate (not valid unicode)",
            )
        elif _CONTROL.search(text):
            self.log.add("O006", path, f"the {what} {show(text)} holds a control character")


class _Numbers(_Walk):
    """The walk, reporting the numbers alone (see :func:`number_issues`)."""

    def _deep(self, path: Path, depth: int) -> bool:
        return False

    def _repeated(self, value: Repeated, path: Path) -> None:
        return None

    def _string(self, text: Any, path: Path, what: str) -> None:
        return None
