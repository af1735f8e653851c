"""`// allow W001` comments: warnings a designer has looked at and accepts.

A warning says "probably not what you meant", and sometimes it is what was meant: a discount
offer has no technical work (W001).  `om check --strict` fails on warnings, so without a way to
accept one, a catalog with a single deliberate exception could not use it.

``// allow CODE, CODE...`` at the end of a line accepts those warnings where they point at that
line; alone on its line, at the next line that holds code.  Only warnings can be accepted: an
error never can.  An allow comment that accepts nothing (the warning is gone, or it is an error
code) is itself a warning, W009, so that allow comments do not outlive their reason.  W009 is
left out while the catalog has errors, since a broken catalog is not fully checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from om_dsl.errors import Diagnostic, DiagnosticBag
from om_dsl.source import SourceFile, Span

_ALLOW = re.compile(r"//\s*allow\b(.*)$")
_CODE = re.compile(r"[EW]\d{3}")
_CODES = re.compile(r"\s*([EW]\d{3}(?:\s*,\s*[EW]\d{3})*)\b")
UNUSED_ALLOW = "W009"


@dataclass(slots=True)
class Allow:
    """One code of one allow comment, and whether a warning used it."""

    code: str
    span: Span
    target: int
    used: bool = False


def apply_allows(
    diagnostics: list[Diagnostic], sources: Mapping[str, SourceFile]
) -> list[Diagnostic]:
    """``diagnostics`` without the warnings their allow comments accept, plus a W009 for each
    allow that accepts nothing (sorted as ``DiagnosticBag.sorted`` sorts)."""
    allows = {
        (name, allow.target, allow.code): allow
        for name, source in sorted(sources.items())
        if "allow" in source.text
        for allow in _allows(name, source.text)
    }
    if not allows:
        return diagnostics
    kept = [d for d in diagnostics if not _accepted(d, allows)]
    bag = DiagnosticBag()
    bag.extend(kept)
    if not any(d.is_error for d in kept):
        for allow in allows.values():
            if not allow.used:
                _report_unused(allow, bag)
    return bag.sorted()


def _accepted(diagnostic: Diagnostic, allows: dict[tuple[str, int, str], Allow]) -> bool:
    span = diagnostic.span
    if diagnostic.is_error or span is None:
        return False
    allow = allows.get((span.file, span.line, diagnostic.code))
    if allow is None:
        return False
    allow.used = True
    return True


def _report_unused(allow: Allow, bag: DiagnosticBag) -> None:
    if allow.code.startswith("E"):
        message = f"{allow.code} is an error, and only warnings can be allowed"
        hint = "fix what the error says, then remove it from the allow comment"
    else:
        message = f"nothing on line {allow.target} raises {allow.code}: there is nothing to allow"
        hint = f"remove {allow.code} from the allow comment"
    bag.warning(UNUSED_ALLOW, message, allow.span, hint)


def _allows(name: str, text: str) -> Iterator[Allow]:
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    for number, line in enumerate(lines, start=1):
        if "allow" not in line:  # the scan below is a Python loop per character
            continue
        at = _comment_start(line)
        if at is None:
            continue
        match = _ALLOW.match(line, at)
        if match is None:
            continue
        target = number if line[:at].strip() else _next_code_line(lines, number)
        for code in _codes(match.group(1)):
            col = line.index(code, at) + 1
            span = Span(name, number, col, number, col + len(code))
            yield Allow(code, span, target)


def _codes(listed: str) -> list[str]:
    """The codes an allow comment lists, comma-separated; what follows them is a remark
    (`// allow W001: a discount`)."""
    match = _CODES.match(listed)
    return [] if match is None else _CODE.findall(match.group(1))


def _comment_start(line: str) -> int | None:
    """Where the line's ``//`` comment starts, outside strings (strings hold no newline, and
    ``\\"`` is the only escape that matters here)."""
    quoted = False
    i = 0
    while i < len(line) - 1:
        char = line[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "/" and line[i + 1] == "/":
            return i
        i += 1
    return None


def _next_code_line(lines: list[str], number: int) -> int:
    """The first line after ``number`` (1-based) that holds code, not a comment or nothing."""
    for later in range(number, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("//"):
            return later + 1
    return number
