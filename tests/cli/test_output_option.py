"""`-o FILE` writes where the path leads, as a shell redirection would (found by the renderer
bug hunt): a symlink is written through, a FIFO or a terminal is written to, and a folder is
a usage error; a regular file is still replaced atomically."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.io import dump_ir

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "catalog" / "acme.om"


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


@pytest.fixture(scope="module")
def ir_text() -> str:
    return dump_ir(compile_catalog(EXAMPLE).raise_on_error())


def om(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def test_a_symlink_is_written_through(tmp_path: Path, ir_text: str) -> None:
    (tmp_path / "real.json").write_text("old", encoding="utf-8")
    (tmp_path / "link.json").symlink_to("real.json")
    (tmp_path / "dangling.json").symlink_to("made/new.json")
    for name in ("link.json", "dangling.json"):
        assert om("compile", EXAMPLE, "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "dangling.json").is_symlink()
    assert (tmp_path / "real.json").read_text(encoding="utf-8") == ir_text
    assert (tmp_path / "made" / "new.json").read_text(encoding="utf-8") == ir_text


def test_a_fifo_is_written_to_not_replaced(tmp_path: Path, ir_text: str) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = om("compile", EXAMPLE, "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert received == [ir_text.encode("utf-8")]
    assert fifo.exists() and not fifo.is_file()  # still the FIFO


@pytest.mark.parametrize("name", ["out/", "existing"])
def test_a_folder_is_a_usage_error(tmp_path: Path, name: str) -> None:
    (tmp_path / "existing").mkdir()
    result = om("compile", EXAMPLE, "-o", f"{tmp_path}/{name}")
    assert result.exit_code == 2
    assert "is a folder; name a file in it" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]
