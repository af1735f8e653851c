"""`om ... --help` reads well in an 80-column terminal.

Typer's rich help keeps a docstring's single line breaks, so a paragraph wrapped in the source
came out wrapped twice: rich's lines, each followed by a stray short line (``om serve --help``
printed "separated by" alone, then "commas, e.g. ...").
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from om_dsl import cli

WIDTH = 80


def _commands() -> list[tuple[str, ...]]:
    """Every command path, groups (`om render`) and their subcommands alike."""
    cli._register()
    root = get_command(cli.app)
    assert isinstance(root, TyperGroup)
    paths: list[tuple[str, ...]] = []
    for name, command in sorted(root.commands.items()):
        paths.append((name,))
        if isinstance(command, TyperGroup):
            paths.extend((name, sub) for sub in sorted(command.commands))
    return paths


def _description(path: tuple[str, ...]) -> list[str]:
    """The help's text between its usage line and its first box, one entry per printed line."""
    shown = CliRunner().invoke(cli.app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    return [line.strip() for line in lines[start:end]]


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_paragraphs_are_wrapped_once(path: tuple[str, ...]) -> None:
    """A line that the next line of its paragraph continues was filled by rich, so it is
    nearly as wide as the terminal; a short one there is a line break from the source."""
    text = _description(path)
    assert any(text), path
    for line, after in pairwise(text):
        if line and after:
            assert len(line) >= WIDTH - 25, f"{line!r} is cut short before {after!r}"
