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

import codecs
import io
import os
import unicodedata
from collections.abc import Collection, Sequence
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from om_dsl.source import visible


class PlainConsole(Console):
    """A rich console for data: see the module docstring."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("markup", False)
        options.setdefault("emoji", False)
        options.setdefault("highlight", False)
        if no_color():  # rich drops colours under NO_COLOR but kept bold and dim
            options["color_system"] = None
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


def table_text(table: Table, stream: IO[str] | None = None) -> str:
    """``table`` as text as wide as its rows, never folded, so that ids stay whole to copy
    into the next command (a narrow terminal folded them), each line right-stripped; drawn
    in ASCII when ``stream`` (where the text goes) cannot show box lines."""
    if stream is not None and ascii_only(stream):
        table.box = box.ASCII
    console = text_console(max(TABLE_WIDTH, _width(table)))
    console.print(table)
    return _stripped(text_of(console))


def rows_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Collection[str] = (),
    title: str | None = None,
) -> Table:
    """The operator tables' one shape: a left-aligned title, a column per ``header`` entry
    (those in ``right``, counts, right-aligned), one row per entry of ``rows`` (cells as
    text), for :func:`fitted_table_text`; the same header and cells give ``--format tsv``."""
    table = Table(title=title, title_justify="left")
    for column in header:
        table.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        table.add_row(*row)
    return table


def fitted_table_text(table: Table, stream: IO[str], keep: Sequence[str] = ()) -> str:
    """An operator's table (`om orders`, `om tasks list`, `om systems list`) for ``stream``.

    On a terminal it fits the terminal's width (``COLUMNS`` when set, as rich reads it):
    long cells wrap at spaces, then fold, and the columns named in ``keep`` (ids, copied
    whole into the next command) keep their width.  A table that cannot fit so (a narrow
    terminal, long ids) is printed as one block per row, a field per line (as psql's
    ``\\x auto``): nothing wraps on its own, nothing is cut.  Anywhere else (a pipe, a file)
    it is as wide as its content, whatever ``COLUMNS`` says, so that a script sees the same
    lines in every terminal.  ASCII box lines when ``stream`` cannot show others
    (:func:`ascii_only`).
    """
    if ascii_only(stream):
        table.box = box.ASCII
    if not _is_terminal(stream):
        return table_text(table)
    widths = fitted_widths(table, Console(file=stream).width, keep)  # the terminal's, or COLUMNS
    if widths is None:
        return records_text(table)
    for column, width in zip(table.columns, widths, strict=True):
        column.width, column.overflow = width, "fold"
    return table_text(table)


def fitted_widths(table: Table, width: int, keep: Sequence[str] = ()) -> list[int] | None:
    """The width of each column of ``table`` for it to be at most ``width`` wide, each
    column at least as wide as its longest word (its longest cell for those in ``keep``): the
    widest columns give way first.  None when that is still too wide."""
    overhead = 3 * len(table.columns) + 1  # a box line and a space each side of every cell
    widest = [_longest(column, words=False) for column in table.columns]
    least = [_longest(column, words=str(column.header) not in keep) for column in table.columns]
    if sum(least) + overhead > width:
        return None
    widths = list(widest)
    while sum(widths) + overhead > width:
        i = max(range(len(widths)), key=lambda n: (widths[n] - least[n] > 0, widths[n]))
        widths[i] -= 1
    return widths


def _longest(column: Column, *, words: bool) -> int:
    texts = [str(column.header), *(str(cell) for cell in column.cells)]
    pieces = [word for text in texts for word in text.split()] if words else texts
    return max((cell_len(piece) for line in pieces for piece in line.splitlines()), default=0)


def records_text(table: Table) -> str:
    """``table`` as one block per row: its first cell, then each other cell on its own line
    under its column's name; a blank line between rows."""
    heads = [str(column.header) for column in table.columns]
    cells = [[str(cell) for cell in column.cells] for column in table.columns]
    name_width = max(map(len, heads[1:]), default=0)
    blocks = []
    for first, *rest in zip(*cells, strict=True):
        fields = [
            f"  {head:<{name_width}}  {value}".rstrip()
            for head, value in zip(heads[1:], rest, strict=True)
        ]
        blocks.append(f"{heads[0]} {first}\n" + "".join(f"{field}\n" for field in fields))
    title = f"{table.title}\n" if table.title else ""
    return title + "\n".join(blocks)


def tsv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows as tab-separated values under a header row: no box lines, one value per cell,
    for ``cut -f`` and for screen readers.  Values cannot hold a tab or a line break: they
    are shown as their pictures (see :func:`om_dsl.source.visible`)."""
    lines = [header, *rows]
    return "".join("\t".join(visible(cell) for cell in line) + "\n" for line in lines)


def _stripped(text: str) -> str:
    return "".join(f"{line.rstrip()}\n" for line in text.splitlines())


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: not a terminal
        return False


BOX_SAMPLE = "\u250f\u2501\u2533\u2503\u2502\u2514\u2500\u2534\u2518\u2561"
"""Box-drawing characters that rich's tables use."""


def ascii_only(stream: IO[str]) -> bool:
    """Whether text for ``stream`` should be drawn in ASCII: its encoding cannot encode box
    lines (``PYTHONIOENCODING=ascii``, a latin-1 locale), or the locale asks for plain C or
    POSIX (Python then writes UTF-8 all the same, PEP 538, but the terminal may not show it)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        BOX_SAMPLE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return c_locale()


def c_locale() -> bool:
    """The locale of the environment is C or POSIX, set on purpose (``LC_ALL=C``): an unset
    one (a container's default) is not."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(name)
        if value:
            return value in ("C", "POSIX")
    return False


def no_color() -> bool:
    """https://no-color.org: ``NO_COLOR`` set and not empty means no colour, and here no
    styles either (bold, dim): no escape code at all."""
    return bool(os.environ.get("NO_COLOR"))


ASCII_FOR = {
    "\u2026": "...", "\u2192": "->", "\u2190": "<-", "\u2014": "-", "\u2013": "-",
    "\u00b7": ".", "\u201c": "\"", "\u201d": "\"", "\u2018": "'", "\u2019": "'",
    "\u2265": ">=", "\u2264": "<=", "\u25b6": ">", "\u25b7": ">", "\u25c6": "*",
}  # fmt: skip
"""What stands for the few non-ASCII characters om writes itself, on a stream that cannot
encode them."""


def _ascii_substitute(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler ``om-ascii``: box lines as ``+-|``, the characters of
    :data:`ASCII_FOR` as theirs, anything else (data: ``café``) as a backslash escape,
    ``caf\\xe9``, which is still the value."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_ascii_char(char) for char in chunk), error.end


def _ascii_char(char: str) -> str:
    if char in ASCII_FOR:
        return ASCII_FOR[char]
    if _is_box(char):
        words = set(unicodedata.name(char, "").split())
        across = bool(words & {"HORIZONTAL", "LEFT", "RIGHT"})
        down = bool(words & {"VERTICAL", "UP", "DOWN"})
        if across != down:
            return ("=" if "DOUBLE" in words else "-") if across else "|"
        return "+"
    return char.encode("ascii", "backslashreplace").decode("ascii")


def _is_box(char: str) -> bool:
    return "\u2500" <= char <= "\u257f"


def boxes_for(text: str, stream: IO[str]) -> str:
    """``text`` (a table rendered to a string) with its box lines in ASCII when ``stream``
    should get ASCII (:func:`ascii_only`): `om plan` and `om decompose --format table`."""
    if not ascii_only(stream):
        return text
    return "".join(_ascii_char(char) if _is_box(char) else char for char in text)


def tolerate_unencodable(*streams: IO[str]) -> None:
    """Make ``streams`` write what their encoding cannot encode as ASCII (see
    :func:`_ascii_substitute`) instead of failing: `om orders` under ``PYTHONIOENCODING=ascii``
    was an internal error (``UnicodeEncodeError``), exit 3.  The codec error handler is
    registered here, when the CLI starts, not when a host imports this module."""
    codecs.register_error("om-ascii", _ascii_substitute)
    for stream in streams:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="om-ascii")


def _width(table: Table) -> int:
    """The width at which no cell of ``table`` folds: its widest cells, padding and borders."""
    widest = [max((len(str(c)) for c in column.cells), default=0) for column in table.columns]
    heads = [len(str(column.header)) for column in table.columns]
    return sum(max(w, h) + 3 for w, h in zip(widest, heads, strict=True)) + 1
