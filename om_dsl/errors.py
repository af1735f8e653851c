"""One exception hierarchy and the structured diagnostic that every stage reports.

A diagnostic exists both as data (for ``--format json``, editors and CI) and as text
(``file:line:col: error[E012]: message`` with an excerpt), like sqlglot's errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from om_dsl.source import SourceFile, Span, excerpt


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A compiler finding with a stable code, so that tests and tools can match on it."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hints: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.col, self.code)

    def headline(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}"

    def render(self, sources: dict[str, SourceFile] | None = None) -> str:
        parts = [self.headline()]
        source = (sources or {}).get(self.span.file) if self.span else None
        if source is not None and self.span is not None:
            parts.append(excerpt(source, self.span))
        parts.extend(f"  = hint: {hint}" for hint in self.hints)
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hints": list(self.hints),
        }
        if self.span is not None:
            data["file"] = self.span.file
            data["line"] = self.span.line
            data["col"] = self.span.col
            data["end_line"] = self.span.end_line
            data["end_col"] = self.span.end_col
        return data


@dataclass(slots=True)
class DiagnosticBag:
    """Collects diagnostics so that one run reports every error at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None, *hints: str) -> None:
        self.items.append(Diagnostic(code, Severity.ERROR, message, span, tuple(hints)))

    def warning(self, code: str, message: str, span: Span | None, *hints: str) -> None:
        self.items.append(Diagnostic(code, Severity.WARNING, message, span, tuple(hints)))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        unique = dict.fromkeys(self.items)
        return sorted(unique, key=Diagnostic.sort_key)


class OmError(Exception):
    """Base of every error that om_dsl raises on purpose."""


class CompileError(OmError):
    """The catalog has errors; ``diagnostics`` holds all of them."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(f"{len(errors)} error(s) in catalog; first: {errors[0].headline()}")

    def render(self) -> str:
        return "\n\n".join(d.render(self.sources) for d in self.diagnostics)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle re-calls the class with ``args`` (the message) by default: a host that
        # compiles in a process pool got a BrokenProcessPool instead of this error
        return (type(self), (self.diagnostics, self.sources), _extras(self))


class IRLoadError(OmError):
    """An IR document could not be loaded (bad JSON, wrong schema_version, invalid shape)."""


@dataclass(frozen=True, slots=True)
class OrderIssue:
    """One problem in a commercial order, located by a JSON path."""

    code: str
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: [{self.code}] {self.message}"


class InvalidDocument(OmError):
    """A JSON document that is invalid; ``issues`` lists every problem with its JSON path."""

    what = "document"

    def __init__(self, issues: list[OrderIssue]) -> None:
        self.issues = issues
        count = len(issues)
        super().__init__(f"{self.what} is invalid ({count} problem(s)); first: {issues[0]}")

    def __reduce__(self) -> tuple[Any, ...]:
        # by default pickle re-calls the class with the message as ``issues``: "102 problems"
        return (type(self), (self.issues,), _extras(self))


class OrderValidationError(InvalidDocument):
    """The order is invalid; ``issues`` lists every problem with its JSON path."""

    what = "order"


class InstalledBaseError(InvalidDocument):
    """An installed base given as data does not fit the catalog; ``issues`` lists every
    problem with its JSON path in that data."""

    what = "installed base"


class DecompositionError(OmError):
    """A valid order could not be decomposed (e.g. a many-to-one merge conflict)."""

    def __init__(self, issues: list[OrderIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.issues,), _extras(self))


def _extras(error: Exception) -> dict[str, Any]:
    """What a caller added to ``error`` besides its constructor's arguments (``__notes__``,
    attributes of a subclass), so that it survives a process boundary too."""
    return {k: v for k, v in vars(error).items() if k not in ("diagnostics", "sources", "issues")}


class PlanError(OmError):
    """The plan for an order could not be built (e.g. a dependency cycle)."""


class IllegalTransition(OmError):
    """A state change that the lifecycle forbids: always a bug in the caller or the runtime."""


class OperatorActionRejected(OmError):
    """An operator or API request that is not allowed in the current state (HTTP 409).

    ``commands``: the `om` commands the message suggests, each exactly as the message writes
    it, so that the CLI adds its own ``--db`` to each (pasted as written, a suggestion went to
    the default store, not to the one the operator was working on)."""

    def __init__(self, message: str, commands: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.commands = commands


class NotFound(OmError):
    """An unknown order, item, task or token (HTTP 404)."""


class UnmappableCallback(OmError):
    """A callback whose body cannot be mapped to its item's outputs (HTTP 422).

    Raised by ``runtime.callback`` once the callback has taken effect: the item's attempt
    failed with :attr:`reason` (its retry policy applies) and the token is used.  The caller
    (a system, through the callback endpoint) is told, instead of an "accepted" that hid
    that its result was not taken.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
