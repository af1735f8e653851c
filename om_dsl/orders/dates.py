"""The order's requested dates: TMF622's ``requestedStartDate`` and ``requestedCompletionDate``.

TMF622 gives them as date-times (``2019-05-03T08:13:59.506Z``); the native format takes the same
or a plain date.  Rules and plans read them as the ``date`` of the catalog's language, the day
the text names as written (no time-zone arithmetic: ``2026-05-03T23:30:00-05:00`` is
2026-05-03, the requester's day), so that ``add_days`` and ``days_between`` count in days.  The
text as the client gave it is kept for what is sent on (TMF641 service orders), which wants the
time too.

A value that is not such a date is an order error (O012, at its JSON path) when the order is
read, never a failure when a rule or a plan reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final

from pydantic import AfterValidator

from om_dsl.orders.issues import show
from om_dsl.orders.shape_errors import described

_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
"""ISO 8601's extended form, as TMF's JSON writes it; not the week or ordinal dates, the basic
form (20260503) or a space for the ``T`` that Python's ``fromisoformat`` also takes."""

EXPECTED: Final = "a date or a date-time (ISO 8601: 2026-05-03 or 2026-05-03T08:00:00Z)"


def date_time_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a requested date, or None when it is one."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        return f"expected {EXPECTED}, got {described(value)}"
    try:
        # fromisoformat reads at most 6 digits of a fraction; the range checks are its own
        dt.datetime.fromisoformat(re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value))
    except ValueError as exc:  # Python's words, but for a UTC offset (its are timedelta's)
        why = "its UTC offset is out of range" if "timedelta" in str(exc) else str(exc)
        return f"{show(value)} is not a real date or time: {why}"
    return None


def _checked(value: str) -> str:
    problem = date_time_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


DateTimeText = Annotated[str, AfterValidator(_checked)]
"""A requested date in an order model: pydantic reports a bad one as a ``value_error`` whose
message is the problem (worded for JSON by :mod:`.shape_errors`)."""


def is_date_time_or_none(value: Any) -> bool:
    """For the quick readers: a value they may take as it is."""
    return value is None or date_time_problem(value) is None


def day(text: str | None) -> str | None:
    """The ``date`` that rules and plans read: the day the (checked) text names."""
    return None if text is None else text[:10]
