"""The one kind of rich console om prints through: text stays text.

Most of what the CLI and the demos print is data from catalogs, orders and stores: order and
item ids, queue names, attribute values.  A rich console reads ``[red]`` in such text as
markup (``[/]`` in an order id made `om decompose --format table` an internal error),
``:phone:`` as an emoji code, and passes ESC straight to the terminal.  Making every print
escape its data would be one forgotten call away from the same bug, so these consoles have
markup, emoji codes and highlighting off, and show control characters as their pictures.
The few lines that style fixed text ask for it with ``markup=True`` and escape what they
interpolate (``om_dsl.cli.app.shown``).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from om_dsl.source import visible


class PlainConsole(Console):
    """A rich console for data: see the module docstring."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("markup", False)
        options.setdefault("emoji", False)
        options.setdefault("highlight", False)
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        """Every string rich prints (tables and titles too) passes here."""
        return super().render_str(visible(text, lines=True), **options)


TABLE_WIDTH = 200
"""The widest a table printed by :func:`text_console` grows (narrower tables keep their width)."""


def text_console(width: int = TABLE_WIDTH) -> PlainConsole:
    """A console that renders into a string (:func:`text_of`), for `--format table` output.

    Its width is fixed, not the terminal's: the text often goes to a file or a pipe, and a
    table squeezed to a narrow width folds values mid-token (``bandwidth_kbps=100000`` over
    ``0``), which a reader takes for two values.  A table is only as wide as it needs.
    """
    return PlainConsole(file=io.StringIO(), width=width, color_system=None)


def text_of(console: Console) -> str:
    """What :func:`text_console` ``console`` has printed so far."""
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def table_text(table: Table) -> str:
    """``table`` as text as wide as its rows, never folded, so that ids stay whole to copy
    into the next command (a narrow terminal folded them), each line right-stripped."""
    console = text_console(max(TABLE_WIDTH, _width(table)))
    console.print(table)
    return "".join(f"{line.rstrip()}\n" for line in text_of(console).splitlines())


def _width(table: Table) -> int:
    """The width at which no cell of ``table`` folds: its widest cells, padding and borders."""
    widest = [max((len(str(c)) for c in column.cells), default=0) for column in table.columns]
    heads = [len(str(column.header)) for column in table.columns]
    return sum(max(w, h) + 3 for w, h in zip(widest, heads, strict=True)) + 1
