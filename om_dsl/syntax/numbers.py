"""Bad numbers (`2x`, `1e3`, `1.5h`, 17 digits or more): one error each, with a fitting hint.

The lexer cannot tell where a duration is wanted and where a number is, so it makes a bad
number a ``BADNUM`` token and leaves the rest to the parser.  Where the grammar takes a number,
the LALR driver turns the token into one of the kind it takes (:func:`fit`), with a harmless
value, so that the declaration parses on.  Once the file is parsed, :func:`report` reports each
bad number once (E005), with a hint for what the place takes: a duration, or a number.
"""

from __future__ import annotations

import re
from collections.abc import Container
from decimal import Decimal

from om_dsl.errors import DiagnosticBag
from om_dsl.syntax.lexer import Tok, token_span, unit_of

BAD = "BADNUM"
_TOO_LARGE = re.compile(r"0*[1-9][0-9]{16,}(?:ms|s|m|h|d)?")
_EXPONENT = re.compile(r"[0-9]+(?:\.[0-9]+)?[eE][0-9]+")

_DURATIONS = "durations are a whole number and a unit: 500ms, 5s, 10m, 2h or 2d"
_NUMBERS = "numbers are digits with an optional decimal part, like 42 or 9.99"


def fit(tok: Tok, acceptable: Container[str]) -> bool:
    """Turn a bad number into a number of a kind that ``acceptable`` holds (False: none)."""
    written = tok.value
    unit = unit_of(written)
    order = ("DECIMAL", "INT", "DURATION") if "." in written else ("INT", "DECIMAL", "DURATION")
    if unit is not None:
        order = ("DURATION", *order[:2])
    for kind in order:
        if kind in acceptable:
            tok.type = kind
            tok.value = {"INT": "1", "DECIMAL": "1.0"}.get(kind, "1" + (unit or "s"))
            return True
    return False


def report(
    file: str, bad: list[tuple[Tok, str]], bag: DiagnosticBag, unexpected: list[Tok]
) -> None:
    """E005 for each bad number, unless it was reported as unexpected (E001) where it stands."""
    for tok, written in bad:
        if any(tok is other for other in unexpected):
            continue
        span = token_span(file, tok)
        shown = shorten(written)
        if _TOO_LARGE.fullmatch(written):
            bag.error(
                "E005", f"number '{shown}' is too large", span, "the limit is 2^53 (16 digits)"
            )
        else:
            bag.error("E005", f"invalid number '{shown}'", span, _hint(tok.type, written))


def shorten(written: str) -> str:
    """A bad number as shown in a message: 5,000 digits are cut to 30 characters."""
    return written if len(written) <= 30 else written[:24] + "..." + written[-3:]


def _hint(kind: str, written: str) -> str:
    """The hint for what the place of a bad number takes (``kind``, as :func:`fit` made it)."""
    if kind == "DURATION":
        return _DURATIONS
    if _EXPONENT.fullmatch(written):
        return f"numbers have no exponent: write {_expand(written)}"
    if kind in ("INT", "DECIMAL"):
        return _NUMBERS
    return f"{_NUMBERS}; {_DURATIONS}"  # its declaration broke before it: either may be meant


def _expand(written: str) -> str:
    """``1e3`` as plain digits (``1000``), for the hint."""
    if int(re.split("[eE]", written)[1]) > 20:
        return "the digits in full"
    return format(Decimal(written), "f")
