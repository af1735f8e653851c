"""Text made one line that shows as it is: for log lines and for downstream text kept as a
reason.

A downstream system's error body, or any text that reaches a log line, may hold characters
that are no text: CR/LF and U+2028/U+2029 split the line in a viewer (a forged line follows),
ESC starts a terminal sequence (``tail -f`` or ``less -R`` repaint the screen), C1 controls
do the same on some terminals, and a direction override (U+202E) shows other words than
``grep`` finds.  Each such character is written as its Python escape (``\\x1b``,
``\\u2028``), visible and one line, instead.
"""

from __future__ import annotations

import re


def escaped(text: str) -> str:
    """``text`` with every character that is not printable (``str.isprintable``: controls,
    line and paragraph separators, format characters such as direction overrides, spaces
    other than ' ') as its escape: ``a\\x1b[31mb`` shows as ``a\\x1b[31mb``, on one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def one_line(text: str) -> str:
    """``text`` with its blanks (line breaks, tabs, U+2028 included) folded into single
    spaces and the rest of what is not printable :func:`escaped`: downstream text kept as a
    reason, which `om events`, `om status` and the log show as one line."""
    return escaped(" ".join(text.split()))


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text`` (then ``...``).  Only for redacted text: cut
    first, half a credential could be left that redaction then misses."""
    return text if len(text) <= limit else text[:limit] + "..."


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape").decode("ascii")


_RAW_NON_ASCII = re.compile(r"[^\x00-\x7e]")


def json_escaped(line: str) -> str:
    """A JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with the characters
    that are not printable written as ``\\uXXXX`` too: the encoder escapes those below U+0020
    only, and left DEL, the C1 controls, U+2028 (a line break to JavaScript and to many log
    viewers) and direction overrides raw.  The JSON value is the same."""
    return _RAW_NON_ASCII.sub(_json_escape, line)


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
    return f"\\u{high:04x}\\u{low:04x}"
