"""`om render catalog|template`: formats, files, stdout and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from om_dsl.cli import main
from om_dsl.ir.io import dump_ir
from om_dsl.ir.models import Catalog

ACME = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om"
_MAIN = "import sys; from om_dsl.cli import main; main(sys.argv[1:])"


def _om(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    code = done.value.code
    return code if isinstance(code, int) else 0


def test_catalog_to_stdout_is_dot(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _om("render", "catalog", str(ACME), "--focus", "Router") == 0
    assert capsysbinary.readouterr().out.startswith(b"digraph catalog {")


def test_the_output_suffix_picks_the_format(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "plan.svg"
    assert _om("render", "template", str(ACME), "AccessLine", "add", "-o", str(out)) == 0
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_format_flag_overrides_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "map.txt"
    assert _om("render", "catalog", str(ACME), "-o", str(out), "--format", "png") == 0
    assert out.read_bytes().startswith(b"\x89PNG")


def test_ir_json_is_accepted(acme: Catalog, tmp_path: Path) -> None:
    ir_file = tmp_path / "acme.json"
    ir_file.write_text(dump_ir(acme))
    out = tmp_path / "map.dot"
    assert _om("render", "catalog", str(ir_file), "-o", str(out)) == 0
    assert out.read_text().startswith("digraph catalog {")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["catalog", "missing.om"], 1, "missing.om: no such file"),
        (["catalog", str(ACME), "--format", "gif"], 2, "unknown format 'gif'"),
        (["catalog", str(ACME), "--focus", "Nope"], 1, "cannot focus on 'Nope'"),
        (["template", str(ACME), "AccessLine", "modify"], 1, "no plan for action 'modify'"),
        (["template", str(ACME), "HomeTv", "add"], 1, "not offers"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _om("render", *args) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_broken_catalog_prints_its_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text('catalog "B" version "1"\noffer X { attribute a: nosuchtype }\n')
    assert _om("render", "catalog", str(bad)) == 1
    err = capsys.readouterr().err
    assert "nosuchtype" in err
    assert "error(s) in the catalog" in err


def test_a_bad_ir_file_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert _om("render", "catalog", str(bad)) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_missing_graphviz_is_a_clear_error_in_a_real_process(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _MAIN,
            "render",
            "catalog",
            str(ACME),
            "-o",
            str(tmp_path / "x.svg"),
        ],
        capture_output=True,
        check=False,
        text=True,
        env={"PATH": str(empty), "PYTHONPATH": str(ACME.parents[2])},
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "apt-get install graphviz" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.svg").exists()
