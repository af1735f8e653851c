"""Secrets out of every downstream text and value that is stored, shown or logged.

A downstream system may echo a credential back: in an error body, a header value quoted in
JSON, a URL, a field that a response mapping reads.  Everything the runtime keeps from an answer
or a callback (reasons, event details, outputs, early callback payloads) goes through here
first.  Two rules make that safe:

* every *form* in which a secret can come back is hidden: the raw value, its JSON-escaped forms
  (``"`` and ``\\`` become ``\\"`` and ``\\\\``; any character may come as ``\\uXXXX``, as
  Go writes ``&`` ``<`` ``>``) and its URL-encoded forms, each character in any of its forms,
  and its base64 (standard and URL-safe, padded or not), each in those forms too;
* text is redacted whole *before* it is shortened (:func:`excerpt`): shortening first could cut a
  secret in two, and the surviving half would no longer match.

A credential shorter than :data:`WHOLE_WORD_BELOW` characters (a basic-auth user ``order``, a
test token ``t``) is hidden only where it stands as a whole word: hidden everywhere, it turned
``no route`` into ``no rou***e`` and made every reason that quotes a common word unreadable,
while such a short value is no secret that a fragment could give away.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable
from typing import Any

from om_dsl.oneline import one_line, shorten

REDACTED = "***"
EXCERPT_CHARS = 200
"""How much of a downstream answer a reason quotes."""
WHOLE_WORD_BELOW = 8
"""Credentials shorter than this are redacted only where no letter or digit adjoins them."""
_NOT_AFTER_WORD = r"(?<![^\W_])"
_NOT_BEFORE_WORD = r"(?![^\W_])"
"""Lookarounds: no letter or digit (of any script) just before / after the match."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***`` (longest first, so that a
    value containing another is hidden whole), its base64 forms included."""
    hidden = {form for secret in secrets if secret for form in _with_base64(secret)}
    for secret in sorted(hidden, key=lambda s: (-len(s), s)):
        text = _pattern(secret).sub(REDACTED, text)
    return text


@functools.lru_cache(maxsize=256)
def _with_base64(secret: str) -> frozenset[str]:
    """``secret`` and its base64 (standard and URL-safe alphabets, with and without ``=``
    padding): a system that echoed the header it got base64-encoded (a debug dump) gave the
    bearer token away, since only basic auth's pair was hidden in that form.  A short value
    (below :data:`WHOLE_WORD_BELOW`) is no secret a fragment gives away: itself only."""
    if len(secret) < WHOLE_WORD_BELOW:
        return frozenset({secret})
    raw = secret.encode("utf-8")
    encoded = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    return frozenset({secret, *encoded, *(form.rstrip("=") for form in encoded)})


@functools.lru_cache(maxsize=256)
def _pattern(secret: str) -> re.Pattern[str]:
    """A regex for ``secret`` with each character in any of the forms it can be sent in (a
    ``str.replace`` per form missed a value with one ``\\u0026`` in it); for a short one, only
    where it is a whole word (see the module docstring)."""
    body = "".join(_char_forms(ch) for ch in secret)
    if len(secret) >= WHOLE_WORD_BELOW:
        return re.compile(body)
    before = _NOT_AFTER_WORD if secret[0].isalnum() else ""
    after = _NOT_BEFORE_WORD if secret[-1].isalnum() else ""
    return re.compile(before + body + after)


def _char_forms(ch: str) -> str:
    code = ord(ch)
    options = [re.escape(ch)]
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        options.append(_hex_escape(high) + _hex_escape(low))
    else:
        options.append(_hex_escape(code))
    if ch in '"\\/':
        options.append(re.escape("\\" + ch))
    if ch == " ":
        options.append(r"\+")
    options.append("".join(f"%(?i:{b:02x})" for b in ch.encode("utf-8")))
    return "(?:" + "|".join(options) + ")"


def _hex_escape(code: int) -> str:
    return f"\\\\u(?i:{code:04x})"


def redact_value(value: Any, secrets: Iterable[str]) -> Any:
    """A JSON-like value with :func:`redact` applied to every string in it (keys too)."""
    hidden = tuple(secrets)
    if not hidden:
        return value
    return _redact_value(value, hidden)


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {_redact_value(k, secrets): _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, secrets) for v in value]
    return value


def excerpt(text: str, secrets: Iterable[str], limit: int = EXCERPT_CHARS) -> str:
    """Downstream text made fit to keep: redacted whole, blanks (line breaks too) collapsed,
    the characters that are not printable escaped (an ESC in an error body reached the text
    log and `om events` raw, to repaint a terminal: :func:`~om_dsl.oneline.one_line`), then
    shortened."""
    return shorten(one_line(redact(text, secrets)), limit)
