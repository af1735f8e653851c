"""Source positions and excerpts.

Every AST node and IR object that came from DSL text carries a :class:`Span`, so that a
diagnostic, a rendered diagram or a runtime error can point back at the line a catalog
designer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open region of one source file; lines and columns are 1-based."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to(self, other: Span) -> Span:
        """The span that covers ``self`` up to the end of ``other``."""
        return Span(self.file, self.line, self.col, other.end_line, other.end_col)


@dataclass(slots=True)
class SourceFile:
    """The text of a file and a lazily built line index, for excerpts."""

    name: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    def line_text(self, line: int) -> str:
        if self._lines is None:
            # Only "\n" ends a line, as in the lexer (splitlines() also splits at \f, \x1c or
            # U+2028, and excerpts would then show a later line than the span's).
            self._lines = [line.removesuffix("\r") for line in self.text.split("\n")]
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""


def excerpt(source: SourceFile, span: Span) -> str:
    """Render the line of ``span`` with a caret underline, rustc style."""
    text = source.line_text(span.line).expandtabs(4)
    gutter = f"{span.line:>4} | "
    width = span.end_col - span.col if span.end_line == span.line else len(text) - span.col + 1
    width = max(1, min(width, max(1, len(text) - span.col + 1)))
    marker = " " * (len(gutter) + span.col - 1) + "^" * width
    return f"{' ' * (len(gutter) - 2)}|\n{gutter}{text}\n{marker.rstrip()}"
