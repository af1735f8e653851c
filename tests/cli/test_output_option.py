"""`-o FILE` writes where the path leads, as a shell redirection would (found by the renderer
bug hunt): a symlink is written through, a FIFO or a terminal is written to, and a folder is
a usage error; a regular file is still replaced atomically."""

from __future__ import annotations

import os
import subprocess
import sys
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


def _two_file_catalog(folder: Path) -> Path:
    (folder / "lib").mkdir()
    (folder / "lib" / "types.om").write_text("enum Tech { FTTH }\n", encoding="utf-8")
    root = folder / "self.om"
    root.write_text(
        'catalog "C" version "1"\nimport "lib/types.om"\n'
        'offer O "O" { attribute t: Tech }\ncfs L { attribute t: Tech }\n'
        "decompose O -> L { t = t }\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize(
    ("output", "what"),
    [
        ("self.om", "the catalog's root file"),
        ("./lib/../self.om", "the catalog's root file"),
        ("alias.om", "the catalog's root file"),  # a symbolic link to it
        ("hard.om", "the catalog's root file"),  # a hard link to it
        ("lib/types.om", "imported file"),
    ],
)
def test_the_ir_never_overwrites_a_source_of_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, what: str
) -> None:
    """`om compile self.om -o self.om` replaced the catalog with its IR (gcc: "input file is
    the same as output file"); now a usage error, and every source stays as it was."""
    root = _two_file_catalog(tmp_path)
    (tmp_path / "alias.om").symlink_to("self.om")
    os.link(root, tmp_path / "hard.om")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.om")}
    monkeypatch.chdir(tmp_path)
    result = om("compile", "self.om", "-o", output)
    assert result.exit_code == 2, result.output
    assert f"is {what}" in result.output and "nothing was written" in result.output
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.om")} == before


def test_an_output_next_to_the_sources_is_written(tmp_path: Path) -> None:
    root = _two_file_catalog(tmp_path)
    result = om("compile", root, "-o", tmp_path / "self.json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "self.json").read_text(encoding="utf-8").startswith("{")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args", [["compile", str(EXAMPLE)], ["check", str(EXAMPLE), "--format", "json"]]
)
def test_a_full_standard_output_is_a_clean_error(args: list[str]) -> None:
    """`om compile x.om > /dev/full` was "internal error: OSError ... a bug", exit 3."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", "from om_dsl.cli import main; main()", *args],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "error: cannot write standard output: No space left on device" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("under", ["afile/out.json", "afile/deeper/out.json"])
def test_an_output_under_a_regular_file_says_it_is_not_a_folder(tmp_path: Path, under: str) -> None:
    """It said "cannot write afile/out.json: File exists"."""
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = om("compile", EXAMPLE, "-o", tmp_path / under)
    assert result.exit_code == 1
    assert f"{tmp_path / 'afile'} is not a folder" in result.output.replace("\n", "")
