"""The errors a diagram can fail with; the CLI turns each into one line, never a traceback."""

from __future__ import annotations

from om_dsl.errors import OmError

INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu) or "
    "`brew install graphviz` (macOS), or ask for --format dot, which needs no binary"
)


class RenderError(OmError):
    """A diagram could not be produced: an unknown product or action, or Graphviz failed."""


class GraphvizNotFound(RenderError):
    """Graphviz's ``dot`` binary is missing, so only DOT text can be produced."""

    def __init__(self, fmt: str) -> None:
        super().__init__(
            f"Graphviz's 'dot' program was not found, so {fmt} cannot be rendered; {INSTALL_HINT}"
        )
