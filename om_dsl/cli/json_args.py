"""Reading a JSON object given on the command line (``--outputs``, ``--payload``) strictly.

An operator's typo must be a one-line usage error, and nothing that JSON cannot write back
may reach the store (:mod:`om_dsl.jsontext`); a key given twice is refused, as in orders
(O014), since only one of the two values could be kept.
"""

from __future__ import annotations

from typing import Any

from om_dsl import jsontext

MAX_CHARS = 1_000_000
"""A hand-typed option is far smaller; anything bigger is a mistake (a file pasted whole)."""

MAX_DEPTH = jsontext.MAX_DEPTH


def parse_json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object whose values JSON can write back unchanged.

    Raises:
        ValueError: the text is too long, not JSON, not an object, nested more than
            :data:`MAX_DEPTH` levels, holds NaN/Infinity, an out-of-range number, a lone
            surrogate or a repeated key (the message says which, and where).
    """
    if len(text) > MAX_CHARS:
        raise ValueError(f"is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    value = jsontext.loads(text, unique_keys=True)
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object, e.g. \'{"port": "P-1"}\'')
    return value
