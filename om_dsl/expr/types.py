"""The expression language's types, written as short strings in the IR.

``int``, ``decimal``, ``string``, ``bool``, ``date``, ``any``, ``null``, ``enum:Name`` and
``list[T]``.  ``any`` stands for values only known at run time (handler outputs, response
bodies); it is compatible with every type and checked when the value arrives.
"""

from __future__ import annotations

import functools

SCALARS = ("int", "decimal", "string", "bool", "date")
NUMERIC = frozenset({"int", "decimal"})
ANY = "any"
NULL = "null"

SAFE_INTEGER = 2**53
"""The largest whole number (either sign) that every reader of om's JSON represents exactly:
JavaScript, many databases, durable-rules' 64-bit integers.  Literals, order values and
every value an expression computes stay within it."""


def enum_type(name: str) -> str:
    return f"enum:{name}"


def list_type(item: str) -> str:
    return f"list[{item}]"


def is_enum(t: str) -> bool:
    return t.startswith("enum:")


def enum_name(t: str) -> str:
    return t[5:]


def is_list(t: str) -> bool:
    return t.startswith("list[")


def list_item(t: str) -> str:
    return t[5:-1]


def is_numeric(t: str) -> bool:
    return t in NUMERIC


@functools.cache
def assignable(src: str, dst: str) -> bool:
    """Whether a value of type ``src`` may be stored where ``dst`` is expected."""
    if src in (dst, NULL) or ANY in (src, dst):
        return True
    if src == "int" and dst == "decimal":
        return True
    if is_list(src) and is_list(dst):
        return assignable(list_item(src), list_item(dst))
    return False


def unify(a: str, b: str) -> str | None:
    """The common type of two branches (``if``/``map``), or None when they disagree."""
    if assignable(a, b) and a != ANY:
        return b
    if assignable(b, a):
        return a
    return None


def comparable(a: str, b: str) -> bool:
    return assignable(a, b) or assignable(b, a)


def ordered(t: str) -> bool:
    """Types that ``<``/``>`` make sense for."""
    return t in ("int", "decimal", "string", "date", ANY)


def describe(t: str) -> str:
    """A type as a designer would write it."""
    if is_enum(t):
        return enum_name(t)
    if is_list(t):
        return f"list[{describe(list_item(t))}]"
    return t


def conversion(found: str, expected: str, text: str) -> str | None:
    """How to turn ``text``, a value of type ``found``, into ``expected`` where a built-in
    function does it: the hint of a type mismatch (E043) that a designer fixes with a call."""
    if found == "decimal" and expected == "int":
        if text.startswith("round("):
            return f"write int({text}): round gives a decimal"
        return f"write int({text}) to drop the fraction, or int(round({text})) to round it"
    if expected == "string" and (found in ("int", "decimal", "bool", "date") or is_enum(found)):
        return f"write str({text}) to use it as text"
    if found == "string" and expected in ("int", "decimal", "date"):
        return f"write {expected}({text}) to read it from the text"
    return None
