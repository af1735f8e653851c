"""Text in diagrams: escaping for DOT, HTML-like labels, shortening and durations.

Labels are HTML-like tables (``<<TABLE>...</TABLE>>``) because Graphviz sizes a node to its
table, so text never overflows; every piece of catalog text goes through :func:`esc` first.
Long texts are shortened with an ellipsis in the label and given in full in the tooltip.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime

import graphviz

from om_dsl.source import visible

ELLIPSIS = "…"
LABEL_LIMIT = 40


_ID_ESCAPES = str.maketrans({"%": "%25", ":": "%3A", "\\": "%5C", '"': "%22"})


def dot_id(node_id: str) -> str:
    """A node id that the graphviz package will not split into node and port at ``:``, and
    whose quoting a backslash cannot break (an order item id ``x\\`` ended the DOT string).
    Percent-encoding ``%`` too keeps two ids two nodes (``a:b`` and ``a%3Ab`` were one)."""
    return node_id.translate(_ID_ESCAPES)


def esc(text: str) -> str:
    """``text`` made safe inside an HTML-like label (``&``, ``<``, ``>``, quotes; control
    characters, which Graphviz's XML parser refuses, as their pictures).

    Graphviz expands ``\\N``, ``\\G``, ``\\E``, ... in HTML-like labels too (an attribute
    ``ACME\\Nord`` was drawn with the node's name in it), after decoding entities, so no
    entity helps; a doubled backslash is drawn as one."""
    return html.escape(visible(text, lines=True), quote=True).replace("\\", "\\\\")


def plain(text: str) -> str:
    """``text`` as a DOT escString (tooltips, plain labels): literal backslashes and brackets.

    Backslashes are doubled so that ``\\l`` in a catalog string stays two characters, and
    line breaks become ``\\n`` so the DOT source keeps one statement per line.
    """
    lines = text.replace("\\", "\\\\").replace("\r\n", "\n").split("\n")
    escaped = "\\n".join(visible(line) for line in lines)
    marked: str = graphviz.nohtml(escaped)
    return marked


def shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` on one line, at most ``limit`` characters, ending in an ellipsis when cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + ELLIPSIS


def tooltip(text: str) -> str:
    """``text`` as a tooltip (an escString, like :func:`plain`).

    Graphviz expands the escapes of SVG tooltips twice: a doubled backslash came out as one,
    and ``\\N`` after it as the node's name.  A tooltip shows a backslash as U+29F5 (the
    reverse solidus operator), which no escape touches.
    """
    return plain(text.replace("\\", "\u29f5"))


_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))


def duration(ms: int) -> str:
    """``ms`` as the DSL writes durations: ``0s``, ``250ms``, ``1h``, ``2d 10m``."""
    if ms <= 0:
        return "0s"
    parts: list[str] = []
    rest = ms
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def stamp(ts: float) -> str:
    """Epoch seconds as a short UTC time for labels: ``2026-03-02 09:00Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%MZ")


# ---- HTML-like labels -----------------------------------------------------------------------


def font(
    text: str,
    *,
    size: float | None = None,
    colour: str | None = None,
    bold: bool = False,
    italic: bool = False,
) -> str:
    """Already-escaped ``text`` in a FONT element (and B/I when asked)."""
    if bold:
        text = f"<B>{text}</B>"
    if italic:
        text = f"<I>{text}</I>"
    attrs = ""
    if size is not None:
        attrs += f' POINT-SIZE="{size:g}"'
    if colour is not None:
        attrs += f' COLOR="{colour}"'
    return f"<FONT{attrs}>{text}</FONT>" if attrs else text


def row(
    content: str, *, bgcolor: str | None = None, align: str = "CENTER", sides: str | None = None
) -> str:
    """One table row with one cell of already-formatted content."""
    attrs = f' ALIGN="{align}"'
    if bgcolor is not None:
        attrs += f' BGCOLOR="{bgcolor}"'
    if sides is not None:
        attrs += f' SIDES="{sides}" BORDER="1"'
    return f"<TR><TD{attrs}>{content}</TD></TR>"


def table(
    rows: Iterable[str],
    *,
    bgcolor: str | None = None,
    color: str | None = None,
    border: int = 0,
    rounded: bool = False,
    padding: int = 2,
) -> str:
    """An HTML-like label (the ``<...>`` form Graphviz reads) holding one table."""
    attrs = f'BORDER="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="{padding}"'
    if bgcolor is not None:
        attrs += f' BGCOLOR="{bgcolor}"'
    if color is not None:
        attrs += f' COLOR="{color}"'
    if rounded:
        attrs += ' STYLE="ROUNDED"'
    return f"<<TABLE {attrs}>{''.join(rows)}</TABLE>>"
