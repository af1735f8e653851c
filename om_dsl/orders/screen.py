"""A cheap look at an order's JSON text: can it hold a problem only the full walk would find?

The walk in :mod:`om_dsl.orders.jsondoc` visits every value in Python to report odd numbers,
odd unicode, long strings and deep nesting with their JSON paths: for a 10k-item order that was
half of the validation time.  The checks here prove most documents clean at C speed; only a
document they flag is walked (and then every problem is reported with its path, exactly as
before).  A flag can be a false alarm (e.g. ``NaN`` inside a string); it only costs the walk.
A problem must never pass unflagged: ``tests/decomposition`` checks that on random documents.

Most checks work on the UTF-8 bytes of the text, where ``bytes.translate`` and substring
search run at memory speed (a regular expression visiting every character of a 1 MB order
cost 5 to 40 ms each; the whole screen now costs a few milliseconds).
"""

from __future__ import annotations

import functools
import re

from om_dsl.orders.limits import Limits

_ODD_ESCAPE = re.compile(rb"\\(?:u(?:[dD][89a-fA-F]|00[01][0-9a-fA-F]|007[fF])|[bf])")
"""An escaped lone surrogate or control character (``\\b`` and ``\\f`` are controls too)."""
_ODD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_ESCAPE = re.compile(rb"\\.", re.DOTALL)

_NUMBER_SHAPE = bytes.maketrans(b"0123456789eE+-", b"0000000000ee++")
"""Digits -> ``0``, exponent marks -> ``e``, signs -> ``+``; anything else is kept as is, so a
run of zeros in the result is a run of digits in the text."""
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")


def utf8(text: str) -> bytes:
    """The text as the checks here read it (a lone surrogate kept, for :func:`_odd_char`)."""
    return text.encode("utf-8", errors="surrogatepass")


def needs_walk(text: str, limits: Limits, data: bytes | None = None) -> bool:
    """False when ``text`` provably holds no number, character, string or nesting problem.

    ``data`` is ``utf8(text)``, when the caller has it already.
    """
    data = utf8(text) if data is None else data
    if _odd_char(text, data) or _odd_number(data, limits.max_int_digits):
        return True
    if len(text) > limits.max_string and (
        b'\\"' in data or _long_string(text, data, limits.max_string)
    ):
        return True
    return _depth(data, limits.max_depth) > limits.max_depth


_BLANKS = b" \t\r\n"


def may_repeat_keys(data: bytes, kept: int) -> bool:
    """False when JSON text provably gives no key twice in one object.

    Args:
        data: The text, as ``utf8(text)``.
        kept: How many keys ``json.loads`` kept in all the objects it made (a key given twice
            in one object is kept once).

    Every key ends with a quote and a colon, blanks allowed between, so in the text without
    its blanks each key reads ``":``.  Anything else that reads so there (a string that
    starts with a colon, an escaped quote before one) only adds to the count: a count equal
    to ``kept`` means every key was kept, none repeated.  A false alarm costs only the exact
    check that follows it.  (Two passes at memory speed; per-pattern searches of the text
    were slower, and an ``object_pairs_hook`` on every parse cost 10 ms on a 10k-item order.)
    """
    return data.translate(None, _BLANKS).count(b'":') != kept


def _odd_char(text: str, data: bytes) -> bool:
    """A control character or a lone surrogate, raw or escaped."""
    if b"\\" in data and _ODD_ESCAPE.search(data):
        return True
    if text.isascii():  # no surrogate possible: only the control bytes to look for
        return len(data.translate(None, _CONTROL_BYTES)) != len(data)
    return _ODD_CHAR.search(text) is not None


def _odd_number(data: bytes, max_digits: int) -> bool:
    """``NaN``, ``Infinity``, more than ``max_digits`` digits in a row, or an exponent of three
    digits or more (which alone can overflow a float).  In JSON an exponent always follows a
    digit, so ``0e000`` / ``0e+000`` in the number shape find every one."""
    if b"NaN" in data or b"Infinity" in data:
        return True
    shape = data.translate(_NUMBER_SHAPE)
    return b"0" * (max_digits + 1) in shape or b"0e000" in shape or b"0e+000" in shape


def _long_string(text: str, data: bytes, max_string: int) -> bool:
    """A string (or key) longer than ``max_string`` characters (escaped quotes are flagged
    separately, so every quote in ``data`` opens or closes a string).

    Such a string is a run of more than ``max_string`` bytes without a quote, and any run of
    ``2 * step`` bytes holds a whole block ``[k * step, (k + 1) * step)``: when every block
    holds a quote (one ``find`` each, at memory speed), no string is that long.  Otherwise
    the exact search runs (a regular expression visiting every character cost about 40
    instructions a byte: 9% of reading a 10k-item order).
    """
    step = max(1, (max_string + 1) // 2)
    if all(data.find(b'"', k, k + step) >= 0 for k in range(0, len(data) - step + 1, step)):
        return False
    return _long_string_pattern(max_string).search(text) is not None


@functools.cache
def _long_string_pattern(max_string: int) -> re.Pattern[str]:
    """A quote followed by ``max_string`` characters that are not quotes: every string (or
    key) longer than the limit starts so."""
    return re.compile(rf'"[^"]{{{max_string}}}')


def _depth(data: bytes, limit: int) -> int:
    """The nesting depth of JSON text (or ``limit + 1`` once it is past the limit)."""
    if b"\\" in data:  # escapes gone, so every quote left opens or closes a string
        data = _ESCAPE.sub(b"", data)
    skeleton = data.translate(None, _NOT_STRUCTURE)  # quotes and brackets only
    brackets = skeleton.replace(b'""', b"")
    if b'"' in brackets:  # some string holds a bracket: keep what lies between strings
        brackets = b"".join(skeleton.split(b'"')[::2])
    return _pair_depth(brackets.translate(_BRACKETS), limit)


def _pair_depth(brackets: bytes, limit: int) -> int:
    """Depth of a bracket sequence: each round removes the innermost pairs, one level."""
    depth = 0
    while brackets:
        inner = brackets.replace(b"()", b"")
        depth += 1
        if len(inner) == len(brackets) or depth > limit:
            return limit + 1
        brackets = inner
    return depth
