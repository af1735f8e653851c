"""The service's log: one line per event on stderr, with a UTC timestamp, its level and its
logger, as plain text or as JSON (``om serve --log-format``, ``--log-level``).

uvicorn's own format had no timestamp, and the service's own loggers (``om_dsl.*``) had no
handler at all: their INFO lines were lost and their warnings came without a time.  The
access log masks callback tokens (:class:`RedactCallbackTokens`) and may leave the health and
readiness probes out (:class:`QuietProbes`: they are logged at DEBUG then), since an
orchestrator's probes every few seconds drown every other line.

    2026-11-28T08:34:10.123Z INFO om_dsl.runtime: resumed 2 unfinished order(s) from the store
    {"time": "2026-11-28T08:34:10.123Z", "level": "INFO", "logger": "om_dsl.runtime", ...}
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from om_dsl.logfields import ATTRIBUTE
from om_dsl.oneline import escaped, json_escaped

LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROBES = ("/health", "/ready")
LOGGERS = ("uvicorn", "uvicorn.access", "om_dsl")
"""The loggers the service's handler serves: uvicorn's (``uvicorn.error`` under ``uvicorn``)
and every ``om_dsl`` one (runtime, service, notifier)."""


class UtcFormatter(logging.Formatter):
    """Times in UTC, ISO 8601 with milliseconds (``2026-11-28T08:34:10.123Z``): one clock for
    every host, sorted as text."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class TextFormatter(UtcFormatter):
    """``<time> <LEVEL> <logger>: <message>``, a traceback (when there is one) under it.

    The line is :func:`~om_dsl.oneline.escaped`: a message quotes text from elsewhere (a
    downstream system's error body, an item's reason), and its ESC, CR/LF, U+2028 or
    direction override drove the terminal of whoever ran ``tail -f`` or split the line in a
    viewer; they are written as ``\x1b``, ``\r``, ``\u2028``.  The traceback keeps its lines."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escaped(super().formatMessage(record))


class JsonFormatter(UtcFormatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the line's named
    fields (:mod:`om_dsl.logfields`: ``event``, ``order_id``, ...) and, for an error with a
    traceback, ``exception`` (the traceback as one string, so the line stays one line)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        named: dict[str, Any] = getattr(record, ATTRIBUTE, {})
        entry.update((k, v) for k, v in named.items() if k not in entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json_escaped(json.dumps(entry, ensure_ascii=False))


def json_line(level: int, message: str, logger: str = "om_dsl.service") -> str:
    """``message`` as a line of the JSON log, for what is printed before logging is set up
    (``om serve``'s banner)."""
    record = logging.makeLogRecord(
        {"name": logger, "levelno": level, "levelname": logging.getLevelName(level),
         "msg": message}
    )  # fmt: skip
    return JsonFormatter().format(record)


def log_config(level: str, fmt: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of the service (uvicorn applies it): one stderr
    handler for uvicorn's loggers and om_dsl's, in ``fmt`` (text or json), at ``level``.
    Other loggers are left as they are."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    chosen = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"om": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "om": {
                "class": "logging.StreamHandler",
                "formatter": "om",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["om"], "level": chosen, "propagate": False} for name in LOGGERS
        },
    }


SHOWN_QUERY = frozenset({"fields", "limit", "offset", "state", "sort"})
"""Query parameters whose values the access log shows: paging and selection, never who or
what a client looked for (an ``externalId`` names a customer's order, and a token put in a
query by mistake, ``?token=...``, was written to the log as it was)."""


def masked(path: str) -> str:
    """``path`` without the token of ``/callbacks/<token>`` (``/callbacks/***``), and with
    the values of its query's other parameters than :data:`SHOWN_QUERY` as ``***``."""
    if path.startswith("/callbacks/"):
        return "/callbacks/***"
    route, mark, query = path.partition("?")
    return (
        route + mark + "&".join(_masked_pair(pair) for pair in query.split("&")) if mark else path
    )


def _masked_pair(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    return pair if not equals or name in SHOWN_QUERY else f"{name}=***"


class RedactCallbackTokens(logging.Filter):
    """Masks ``/callbacks/<token>`` in uvicorn's access-log lines: a token in a log line would
    be a credential in a file."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], masked(args[2]), *args[3:])
        return True


class QuietProbes(logging.Filter):
    """Logs the health and readiness probes' access lines at DEBUG: shown only when the log
    level is debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str)):
            return True
        if args[2].split("?", 1)[0] not in PROBES:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def filter_access_log(probes: bool) -> None:
    """Put the access log's filters in place: tokens masked always; the probes at DEBUG
    unless ``probes``.  Replaces the filters an earlier server of this process put there."""
    access = logging.getLogger("uvicorn.access")
    for old in [f for f in access.filters if isinstance(f, RedactCallbackTokens | QuietProbes)]:
        access.removeFilter(old)
    access.addFilter(RedactCallbackTokens())
    if not probes:
        access.addFilter(QuietProbes())
