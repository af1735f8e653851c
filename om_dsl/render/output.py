"""Output formats: DOT text without any binary, SVG/PNG/PDF through Graphviz's ``dot``.

This is the one place that runs Graphviz, so every view and every caller (CLI, docs build,
a host service serving a live SVG) gets the same formats and the same clear errors.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

import graphviz

from om_dsl.render.errors import GraphvizNotFound, RenderError

Format = Literal["dot", "svg", "png", "pdf"]
FORMATS: tuple[Format, ...] = ("dot", "svg", "png", "pdf")
_SUFFIXES: dict[str, Format] = {
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}


def parse_format(name: str) -> Format:
    """``name`` as a :data:`Format`, or a :class:`RenderError` that lists the choices."""
    for fmt in FORMATS:
        if fmt == name.lower():
            return fmt
    raise RenderError(f"unknown format '{name}'; choose one of: {', '.join(FORMATS)}")


def choose_format(requested: str | None, output: str | None) -> Format:
    """An explicit format wins; else the output file's suffix; else DOT (text on stdout, or a
    file without a suffix).

    Raises:
        RenderError: the file's suffix names no format we write (``plan.jpg``): writing DOT
            text into it would make a file no viewer opens; or it names another format than
            the one asked for (``--format svg -o x.png``), for the same reason.
    """
    suffix = PurePath(output).suffix.lower() if output and output != "-" else ""
    if requested is not None:  # `--format ""` is a mistake too, not "the default"
        chosen = parse_format(requested)
        named = _SUFFIXES.get(suffix, chosen)
        if named != chosen:
            raise RenderError(
                f"--format {chosen} would write {chosen} into {output}, a .{named} name: "
                f"name the file for its format, or leave out --format"
            )
        return chosen
    if not suffix:
        return "dot"
    if suffix not in _SUFFIXES:
        raise RenderError(
            f"cannot tell the format of {output}: name the file "
            f"{', '.join(sorted(_SUFFIXES))}, or give --format {'|'.join(FORMATS)}"
        )
    return _SUFFIXES[suffix]


def render(graph: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """The diagram in ``fmt``: DOT source (UTF-8) or the bytes that ``dot -T<fmt>`` prints.

    Raises:
        GraphvizNotFound: ``fmt`` needs the ``dot`` binary and it is not on PATH.
        RenderError: an unknown format, or Graphviz rejected the graph.
    """
    chosen = parse_format(fmt)
    source: str = graph.source
    if chosen == "dot":
        return source.encode("utf-8")
    try:
        data: bytes = graph.pipe(format=chosen, quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(chosen) from None
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"Graphviz failed to render {chosen}: {' '.join(detail[-3:])}") from None
    return data
