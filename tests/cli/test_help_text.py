"""`om ... --help` reads well in an 80-column terminal, and names every option whole.

Typer's rich help kept a docstring's single line breaks, so a paragraph wrapped in the source
came out wrapped twice (``om serve --help`` printed "separated by" alone, then "commas, e.g.
..."); and it cut option and environment names to fit its columns (``--max-body-byt…``,
``OM_INSTALLED_BAS…``), at 80 columns and whenever piped.  The help is click's plain text now.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

import om_dsl
from om_dsl import cli

Command = Any  # click's, as typer has it (typer 0.29 carries its own copy of click)
Parameter = Any

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
    end = next(i for i, line in enumerate(lines) if line in SECTIONS)
    return [line.strip() for line in lines[start:end]]


SECTIONS = ("Arguments:", "Options:", "Commands:")


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_paragraphs_are_wrapped_once(path: tuple[str, ...]) -> None:
    """A line that the next line of its paragraph continues was filled by rich, so it is
    nearly as wide as the terminal; a short one there is a line break from the source."""
    text = _description(path)
    assert any(text), path
    for line, after in pairwise(text):
        if line and after:
            assert len(line) >= WIDTH - 25, f"{line!r} is cut short before {after!r}"


def _params(path: tuple[str, ...]) -> list[Parameter]:
    command: Command = get_command(cli.app)
    for name in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    return command.params


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_option_and_env_var_is_named_whole_at_80_columns(path: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(cli.app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert shown.exit_code == 0, shown.output
    words = set(re.findall(r"[-\w]+", shown.output))
    for param in _params(path):
        if param.hidden:
            continue
        names = [*param.opts, *param.secondary_opts] if param.param_type_name == "option" else []
        envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
        for name in [*names, *envvars]:
            assert name in words, f"{name} is not whole in om {' '.join(path)} --help"
    assert "…" not in shown.output and max(map(len, shown.output.splitlines())) <= WIDTH


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_h_is_help_and_flags_take_no_value(path: tuple[str, ...]) -> None:
    long = CliRunner().invoke(cli.app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    short = CliRunner().invoke(cli.app, [*path, "-h"], env={"COLUMNS": str(WIDTH)})
    assert short.exit_code == 0 and short.output == long.output
    assert "<bool>" not in long.output and "{" not in long.output.splitlines()[0]
    usage = long.output.splitlines()[0]
    for param in _params(path):  # the usage line names arguments as the docs do: ORDER_ID
        if param.param_type_name == "argument" and param.name:
            assert param.name.upper() in usage, usage


def test_version() -> None:
    shown = CliRunner().invoke(cli.app, ["--version"])
    assert shown.exit_code == 0 and shown.output == f"om {om_dsl.__version__}\n"
