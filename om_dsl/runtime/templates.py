"""Text with ``{placeholders}``: a callout's path and a wait's event name.

The compiler lowers ``"/ports/{line.port_id}"`` to ``concat("/ports/", line.port_id)``.  The
runtime does not evaluate that ``concat`` whole: ``concat`` turns null into ``""``, and a path
or an event name with a hole in it (``/ports/``, ``link.up.``) would reach the wrong resource or
wait for an event nobody sends.  Each placeholder is evaluated on its own instead, and a null
one is an error that names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from om_dsl.expr.evaluate import Compiled, EvalError, compile_expr
from om_dsl.expr.unparse import unparse
from om_dsl.ir import models as ir


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    """Literal text, or the placeholder's expression as written (for messages)."""
    value: Compiled | None
    """None for literal text; else the placeholder's compiled expression."""


class TextTemplate:
    """One catalog item's template, compiled once and rendered for every attempt."""

    __slots__ = ("parts",)

    def __init__(self, expr: Any) -> None:
        args = expr.args if isinstance(expr, ir.CallOp) and expr.fn == "concat" else [expr]
        self.parts = tuple(
            Part(str(arg.value), None)
            if isinstance(arg, ir.Lit)
            else Part(unparse(arg), compile_expr(arg))
            for arg in args
        )

    def render(
        self,
        env: Mapping[str, Any],
        what: str,
        encode: Callable[[Any, str], str],
        error: Callable[[str], Exception],
    ) -> str:
        """The text, each placeholder's value through ``encode(value, placeholder)``.

        Raises:
            ``error(message)``: a placeholder failed to evaluate or is null (``what`` names
            the template in the message: "the path placeholder").
        """
        out: list[str] = []
        for part in self.parts:
            if part.value is None:
                out.append(part.text)
                continue
            try:
                value = part.value(env)
            except EvalError as exc:
                raise error(f"{what} {{{part.text}}} failed: {exc}") from None
            if value is None:
                raise error(f"{what} {{{part.text}}} is null")
            out.append(encode(value, part.text))
        return "".join(out)


def plain_text(value: Any, _placeholder: str) -> str:
    """A placeholder's value as text, as ``str()`` in the language writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
