"""Named fields on the log lines an operator alerts on, for log pipelines to match on.

An item in fallout, an order held and a notification given up are the lines an SRE turns into
alerts; as text only, a pipeline had to parse ids out of the message.  :func:`fields` attaches
them to a record (``log.info(..., extra=fields(event="item_fallout", order_id=...))``) and the
service's JSON log (``om serve --log-format json``) writes them as keys of the line beside
``message``; the text format leaves the message as it was.  Kept apart from the service so
that the runtime's loggers can name fields without importing it.
"""

from __future__ import annotations

from typing import Any

ATTRIBUTE = "om_fields"
"""The :class:`logging.LogRecord` attribute that holds the fields."""


def fields(**named: str | int | None) -> dict[str, Any]:
    """``extra=`` for a logging call: the fields given, less those that are None."""
    return {ATTRIBUTE: {k: v for k, v in named.items() if v is not None}}
