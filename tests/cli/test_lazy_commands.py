"""`om` loads only the module of the command it runs, and still knows every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from om_dsl import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om"


def test_every_registered_command_has_its_home_listed() -> None:
    cli._register()
    group = get_command(cli.app)
    assert set(cli.COMMAND_HOMES) == set(group.commands)  # type: ignore[attr-defined]
    assert set(cli.COMMAND_HOMES.values()) <= set(cli.COMMAND_MODULES)


def _loaded_after(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``om argv`` in a fresh interpreter and list the om_dsl modules it imported."""
    code = (
        "import sys\n"
        "from om_dsl import cli\n"
        "try:\n"
        "    cli.main(sys.argv[1:])\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        "else:\n"
        "    code = 0\n"
        "print('MODULES', *sorted(m for m in sys.modules if m.startswith('om_dsl')))\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=False
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES"))
    return done, set(line.split()[1:])


def test_om_check_loads_neither_the_runtime_nor_the_service() -> None:
    done, modules = _loaded_after("check", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "om_dsl.cli.compile_cmds" in modules
    assert not {m for m in modules if m.startswith(("om_dsl.runtime", "om_dsl.service"))}
    assert "om_dsl.cli.run_cmds" not in modules


@pytest.mark.parametrize("command", sorted(cli.COMMAND_HOMES))
def test_a_command_runs_with_only_its_own_module_loaded(command: str) -> None:
    done, modules = _loaded_after(command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"Usage: om {command}" in done.stdout
    assert f"om_dsl.cli.{cli.COMMAND_HOMES[command]}" in modules


@pytest.mark.parametrize("argv", [["--help"], ["--help", "check"]])
def test_help_and_misspelt_commands_still_see_every_command(argv: list[str]) -> None:
    done, _ = _loaded_after(*argv)
    assert done.returncode == 0
    assert all(name in done.stdout for name in cli.COMMAND_HOMES)
    done, _ = _loaded_after("chek", str(EXAMPLE))
    assert done.returncode == 2
    assert "Did you mean 'check'" in done.stderr
