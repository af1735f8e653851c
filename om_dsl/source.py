"""Source positions and excerpts.

Every AST node and IR object that came from DSL text carries a :class:`Span`, so that a
diagnostic, a rendered diagram or a runtime error can point back at the line a catalog
designer wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(slots=True, unsafe_hash=True)
class Span:
    """A half-open region of one source file; lines and columns are 1-based.

    A value: equal and hashed by its fields, and never changed once made.  It is not a
    ``frozen`` dataclass only because a frozen one sets each field through
    ``object.__setattr__``, four times slower to create, and the parser makes one per AST
    node (a tenth of parse time on a 100k-line catalog).
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __init__(self, file: str, line: int, col: int, end_line: int, end_col: int) -> None:
        # Written out, as the AST nodes' are (see om_dsl.syntax.ast): a C constructor when
        # compiled (om_dsl.accel).
        self.file = file
        self.line = line
        self.col = col
        self.end_line = end_line
        self.end_col = end_col

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def __reduce__(self) -> tuple[type[Span], tuple[str, int, int, int, int]]:
        # a compiled class has no __dict__ for pickle to restore: a CompileError did not
        # cross a process pool on the native build
        return (Span, (self.file, self.line, self.col, self.end_line, self.end_col))

    def to(self, other: Span) -> Span:
        """The span that covers ``self`` up to the end of ``other``."""
        return Span(self.file, self.line, self.col, other.end_line, other.end_col)


@dataclass(slots=True)
class SourceFile:
    """The text of a file and a lazily built line index, for excerpts."""

    name: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    def __reduce__(self) -> tuple[type[SourceFile], tuple[str, str]]:
        return (SourceFile, (self.name, self.text))  # see Span.__reduce__

    def line_text(self, line: int) -> str:
        if self._lines is None:
            # Only "\n" ends a line, as in the lexer (splitlines() also splits at \f, \x1c or
            # U+2028, and excerpts would then show a later line than the span's).
            self._lines = [line.removesuffix("\r") for line in self.text.split("\n")]
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""


_LONE_CR = re.compile(r"\r(?!\n)")
BOM = "\ufeff"
"""A byte order mark that some Windows editors put at the start of a UTF-8 file: not text."""


def as_read(text: str) -> str:
    """A .om file's text as the compiler reads it (and its spans count): without a byte order
    mark, and with each lone carriage return (classic Mac line ends, which editors still show
    as line breaks) made a line feed: read as a blank, it made the whole file one line, and
    the first ``//`` comment swallowed the rest.  CRLF is left alone (the CR is a blank)."""
    text = text.removeprefix(BOM)
    return _LONE_CR.sub("\n", text) if "\r" in text else text


_CONTROLS = {code: 0x2400 + code for code in range(0x20) if code != 0x09} | {0x7F: 0x2421}
_CONTROLS_IN_LINES = {k: v for k, v in _CONTROLS.items() if k not in (0x0A, 0x0D)}


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters shown as their Unicode pictures (ESC as ␛), one
    character each so that columns stay put: catalog text printed on a terminal (or drawn by
    Graphviz, which refuses most of them) can never move the cursor or change colours.
    With ``lines``, line breaks are kept."""
    return text.translate(_CONTROLS_IN_LINES if lines else _CONTROLS)


EXCERPT_COLUMNS = 160
"""A longer line is shown as a window of this many columns around the span (a 160k-character
line used to be printed whole, with a caret run as long)."""
_LEAD = 40
"""Columns of context kept before the span in such a window."""


def excerpt(source: SourceFile, span: Span) -> str:
    """Render the line of ``span`` with a caret underline, rustc style.

    Positions are terminal columns, not characters: tabs are shown as 4 spaces, and a wide
    character (CJK, most emoji) takes two columns, a combining or zero-width one none, so the
    caret stays under the span whatever the line holds before it."""
    raw = source.line_text(span.line)
    text = _shown(raw)
    start = _columns(_shown(raw[: span.col - 1]))
    on_line = span.end_line == span.line
    end = _columns(_shown(raw[: span.end_col - 1])) if on_line else _columns(text)
    text, start, end = _window(text, start, end)
    width = max(1, min(end - start, _columns(text) - start))
    gutter = f"{span.line:>4} | "
    marker = " " * (len(gutter) + start) + "^" * width
    return f"{' ' * (len(gutter) - 2)}|\n{gutter}{text}\n{marker.rstrip()}"


def _shown(raw: str) -> str:
    return visible(raw.expandtabs(4))


def _columns(text: str) -> int:
    """Terminal columns of ``text`` (rich's table of character widths; imported here, as only
    a diagnostic being printed needs it)."""
    from rich.cells import cell_len  # noqa: PLC0415

    return cell_len(text)


def _window(text: str, start: int, end: int) -> tuple[str, int, int]:
    """At most about :data:`EXCERPT_COLUMNS` columns of a long line, from a little before
    the span (``start``/``end``: 0-based columns), with ``…`` where text was cut."""
    if _columns(text) <= EXCERPT_COLUMNS:
        return text, start, end
    left = max(0, start - _LEAD)
    kept: list[str] = []
    column = 0
    for char in text:
        width = _columns(char)
        if column >= left and column + width <= left + EXCERPT_COLUMNS:
            kept.append(char)
        column += width
    head = "…" if left > 0 else ""
    tail = "…" if column > left + EXCERPT_COLUMNS else ""
    shift = left - len(head)
    return head + "".join(kept) + tail, start - shift, end - shift
