"""Reading a JSON object given on the command line (``--outputs``, ``--payload``) strictly.

Plain ``json.loads`` accepts ``NaN`` and ``Infinity`` (which the store would keep and
``om status --format json`` would then print as invalid JSON) and raises ``RecursionError`` on
deep nesting.  An operator's typo must be a one-line usage error instead, and nothing that
JSON cannot write back may reach the store.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_CHARS = 1_000_000
"""A hand-typed option is far smaller; anything bigger is a mistake (a file pasted whole)."""

MAX_DEPTH = 64
"""Nesting of arrays and objects, the same bound as an order's (see om_dsl.orders.limits)."""


def parse_json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object whose values JSON can write back unchanged.

    Raises:
        ValueError: the text is too long, not JSON, not an object, nested more than
            :data:`MAX_DEPTH` levels, or holds NaN/Infinity, an out-of-range number or a
            lone surrogate (the message says which, and where).
    """
    if len(text) > MAX_CHARS:
        raise ValueError(f"is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"is nested too deeply; the limit is {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc.msg} at column {exc.colno}") from None
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ValueError(f"is not usable JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object, e.g. \'{"port": "P-1"}\'')
    _check(value)
    return value


class _Refused(ValueError):
    """Raised by the parse hooks: a number that JSON cannot write back."""


def _no_constant(name: str) -> Any:
    raise _Refused(f"holds {name}, which is not a JSON number (write it as a string)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"holds the number {text[:40]}, which is too large")
    return value


def _check(value: Any) -> None:
    """Depth and strings, walked without recursion (a deep value must not overflow here)."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                raise ValueError(f"is nested too deeply; the limit is {MAX_DEPTH} levels")
            pairs = node.items() if isinstance(node, dict) else enumerate(node)
            for name, item in pairs:
                _text(str(name), path)
                step = f"{path}.{name}" if isinstance(node, dict) else f"{path}[{name}]"
                stack.append((item, step, depth + 1))
        elif isinstance(node, str):
            _text(node, path)


def _text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"has a lone surrogate (\\ud800-\\udfff) in a string at {path}") from None
