"""What makes a JSON body no text a strict reader takes, although Python's reader takes it.

``json.loads`` of bytes reads UTF-16 and UTF-32 too (with or without a byte order mark), and
keeps the last value of a repeated key: ``POST /hub`` in UTF-16 registered its listener, a
downstream system's UTF-16 callback completed its item, and ``{"reason": "a", "reason": "b"}``
kept ``b``, where a reader that keeps the first value (an audit tool) saw ``a``.  RFC 8259
asks for UTF-8 between systems (a UTF-8 byte order mark may be ignored, and is), and leaves
repeated names' meaning open; orders already refuse both (O001, O014).

One check for every body that comes from outside besides orders: the service's request
bodies (:mod:`om_dsl.service.request_issues`) and downstream callbacks
(:func:`om_dsl.runtime.callback_server.handle_callback`, behind ``om serve``'s route and the
runtime's own listener), with the service's codes:

======  ===========================================================================
S010    the body is not UTF-8 text
S026    a key given twice in one object of the body (as an order's O014)
======  ===========================================================================
"""

from __future__ import annotations

import json
from typing import Any

from om_dsl.errors import OrderIssue
from om_dsl.orders.issues import loc_path, path_key, show
from om_dsl.orders.jsondoc import Repeated, repeated_pairs

NOT_JSON = "S010"
REPEATED_KEY = "S026"
Loc = tuple[int | str, ...]


def body_text_issues(body: bytes) -> list[OrderIssue]:
    """A body that is not UTF-8 text (S010, at ``body``), or each key it gives twice in one
    object (S026, at the key's path under ``body``).  [] for a sound body, or one that is not
    JSON at all (the caller's parser says why)."""
    text = _utf8_text(body)
    if text is None:
        reason = "not valid JSON: the body is not UTF-8 text (UTF-16 and UTF-32 are refused)"
        return [OrderIssue(NOT_JSON, "body", reason)]
    try:
        data = json.loads(text, object_pairs_hook=repeated_pairs)
    except (ValueError, RecursionError):  # no JSON: the caller's parser says why
        return []
    return [_repeated(loc, name, times) for loc, name, times in _repeats(data)]


def _utf8_text(body: bytes) -> str | None:
    """The body as text, if it is UTF-8 (a byte order mark ignored); None otherwise."""
    if json.detect_encoding(body) not in ("utf-8", "utf-8-sig"):
        return None
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _repeats(data: Any) -> list[tuple[Loc, str, int]]:
    """Each repeated key (its object's place, its name, how many times), in path order;
    walked without recursion (the parser took the depth, a recursive walk may not)."""
    found: list[tuple[Loc, str, int]] = []
    stack: list[tuple[Any, Loc]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, Repeated):
            found.extend((loc, name, times) for name, times in node.repeated.items())
        if isinstance(node, dict):
            stack.extend((value, (*loc, name)) for name, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*loc, n)) for n, value in enumerate(node))
    return sorted(found, key=lambda entry: path_key(loc_path(("body", *entry[0], entry[1]))))


def _repeated(loc: Loc, name: str, times: int) -> OrderIssue:
    return OrderIssue(
        REPEATED_KEY,
        loc_path(("body", *loc, name)),
        f"the key {show(name)} is given {times} times in this object; give it once (JSON "
        "readers disagree on which value counts)",
    )
