"""Reading JSON that comes from outside into values the store can write back unchanged.

Plain ``json.loads`` raises ``RecursionError`` on deep nesting (a 500 on the callback route, an
"internal" failure of a callout), ``ValueError`` past 4,300 digits, and accepts ``NaN`` and
``Infinity``, which the store would keep and later write out as invalid JSON (or, as a
downstream answer, quietly turn into null).  :func:`loads` turns each of those into a
``ValueError`` whose message completes a sentence about the text ("... is nested too deeply;
the limit is 64 levels"), for operators' options, downstream answers and callbacks alike.
Orders have their own reader, which collects every problem with a JSON path
(:mod:`om_dsl.orders.jsondoc`).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""Nesting of arrays and objects, the same bound as an order's (see om_dsl.orders.limits)."""


class _Refused(ValueError):
    """Raised by the parse hooks: a value that JSON cannot write back."""


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, unique_keys: bool = False) -> Any:
    """``text`` as JSON values that JSON can write back unchanged.

    Raises:
        ValueError: not JSON (or not UTF-8), nested more than ``max_depth`` levels, NaN or
            Infinity, an out-of-range number, a lone surrogate, or (with ``unique_keys``) a key
            repeated in one object; the message says which, and where.
    """
    hooks: dict[str, Any] = {"parse_constant": _no_constant, "parse_float": _finite_float}
    if unique_keys:
        hooks["object_pairs_hook"] = _unique
    try:
        value = json.loads(text, **hooks)
    except RecursionError:
        raise ValueError(f"is nested too deeply; the limit is {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc.msg} at column {exc.colno}") from None
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ValueError(f"is not usable JSON: {exc}") from None
    _check(value, max_depth)
    return value


def _no_constant(name: str) -> Any:
    raise _Refused(f"holds {name}, which is not a JSON number (write it as a string)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"holds the number {text[:40]}, which is too large")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise _Refused(f"has the key '{name[:40]}' twice in one object")
        found[name] = value
    return found


def _check(value: Any, max_depth: int) -> None:
    """Depth and strings, walked without recursion (a deep value must not overflow here)."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= max_depth:
                raise ValueError(f"is nested too deeply; the limit is {max_depth} levels")
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
