"""`om check`, `om compile` and `om schema`: exit codes, output formats, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.io import dump_ir, ir_json_schema, load_ir

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "catalog" / "acme.om"
VALID = REPO / "tests" / "fixtures" / "valid"
INVALID = REPO / "tests" / "fixtures" / "invalid"
BROKEN = INVALID / "E020_E043_E090_three_independent_errors.om"
WARNS = INVALID / "W001_offer_without_rule.om"


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


def om(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


# ---- om check ----------------------------------------------------------------------------------


def test_check_clean_catalog_exits_0() -> None:
    result = om("check", EXAMPLE)
    assert result.exit_code == 0, result.output
    assert f"ok {EXAMPLE}: catalog 'Acme Residential' version 2026.11" in result.stderr
    assert result.stdout == ""


def test_check_with_warnings_only_exits_0() -> None:
    result = om("check", WARNS)
    assert result.exit_code == 0
    assert "warning[W001]" in result.stderr
    assert "1 warning(s)" in result.stderr


def test_check_strict_fails_on_warnings_and_says_why() -> None:
    """CI of a catalog repository wants warnings to fail the build, as -Werror does."""
    result = om("check", "--strict", WARNS)
    assert result.exit_code == 1
    assert "warning[W001]" in result.stderr
    assert "error: 1 warning(s), which --strict makes fail" in result.stderr
    assert f"{WARNS}: 0 error(s), 1 warning(s)" in result.stderr  # failed, so not "ok"
    assert f"ok {WARNS}" not in result.stderr


def test_check_strict_json_keeps_stdout_one_document() -> None:
    result = om("check", "--strict", "--format", "json", WARNS)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["warnings"] == 1


def test_check_strict_passes_a_clean_catalog_and_adds_nothing_to_errors() -> None:
    assert om("check", "--strict", EXAMPLE).exit_code == 0
    broken = om("check", "--strict", BROKEN)
    assert broken.exit_code == 1 and "--strict" not in broken.stderr


def test_compile_strict_writes_nothing_when_there_are_warnings(tmp_path: Path) -> None:
    target = tmp_path / "ir.json"
    result = om("compile", "--strict", WARNS, "-o", target)
    assert result.exit_code == 1
    assert "1 warning(s), which --strict makes fail; no IR written" in result.stderr
    assert not target.exists() and result.stdout == ""
    assert om("compile", "--strict", EXAMPLE, "-o", target).exit_code == 0
    assert load_ir(target.read_text(encoding="utf-8")).name == "Acme Residential"


def test_check_with_errors_exits_1_and_prints_every_error() -> None:
    result = om("check", BROKEN)
    assert result.exit_code == 1
    for code in ("E020", "E043", "E090"):
        assert f"error[{code}]" in result.stderr
    assert f"{BROKEN}: 3 error(s), 0 warning(s)" in result.stderr
    assert "Traceback" not in result.output


def test_check_text_has_location_excerpt_caret_and_hint() -> None:
    result = om("check", INVALID / "E020_unknown_name_in_expr.om")
    lines = result.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if "error[E020]" in line)
    where = f"{INVALID}/E020_unknown_name_in_expr.om:11:38"
    assert lines[head] == f"{where}: error[E020]: unknown name 'sped' in rule fast"
    assert (
        lines[head + 2]
        == "  11 | decompose Web { -> Line as fast when sped > 100 { speed = speed } }"
    )
    assert lines[head + 3].strip() == "^^^^"
    assert lines[head + 3].index("^") == lines[head + 2].index("sped")
    assert lines[head + 4] == "  = hint: did you mean 'speed'?"


def test_check_names_imported_files_from_the_working_directory() -> None:
    folder = INVALID / "E012_import_cycle"
    result = om("check", folder / "main.om")
    assert f"{folder}/b.om:1:8: error[E012]" in result.stderr


def test_check_json_format() -> None:
    result = om("check", "--format", "json", BROKEN, EXAMPLE)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    broken, example = payload["files"]
    assert (broken["path"], broken["errors"], broken["warnings"]) == (str(BROKEN), 3, 0)
    assert (example["path"], example["errors"], example["diagnostics"]) == (str(EXAMPLE), 0, [])
    first = broken["diagnostics"][0]
    assert set(first) == {
        "code", "severity", "message", "hints", "file", "line", "col", "end_line", "end_col",
    }  # fmt: skip
    assert first["file"] == str(BROKEN)
    assert [d["code"] for d in broken["diagnostics"]] == ["E043", "E020", "E090"]
    assert result.stderr == ""


def test_check_json_clean_exits_0() -> None:
    result = om("check", "--format", "json", EXAMPLE)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"][0]["errors"] == 0


def test_check_a_folder_checks_every_root_file_in_it() -> None:
    result = om("check", "--format", "json", VALID)
    assert result.exit_code == 0, result.output
    paths = [Path(f["path"]).name for f in json.loads(result.stdout)["files"]]
    assert paths == sorted(p.name for p in VALID.glob("*.om"))


def test_check_a_multi_file_folder_skips_files_without_a_header() -> None:
    result = om("check", "--format", "json", VALID / "multi_file")
    assert [Path(f["path"]).name for f in json.loads(result.stdout)["files"]] == ["main.om"]


def test_check_a_folder_without_catalogs_exits_1(tmp_path: Path) -> None:
    (tmp_path / "lib.om").write_text("enum E { A }\n", encoding="utf-8")
    result = om("check", tmp_path)
    assert result.exit_code == 1
    assert "no catalog files found" in result.stderr
    as_json = om("check", "--format", "json", tmp_path)
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {"files": []}  # stdout is JSON even then


def test_check_a_folder_reports_a_root_whose_header_is_misspelt(tmp_path: Path) -> None:
    (tmp_path / "a.om").write_text('catlog "A" version "1"\nenum E { X }\n', encoding="utf-8")
    (tmp_path / "b.om").write_text('catalog "B" version "1"\nenum F { Y }\n', encoding="utf-8")
    (tmp_path / "c.om").write_text('catalog C version "1"\n', encoding="utf-8")
    (tmp_path / "lib.om").write_text("enum G { Z }\n", encoding="utf-8")  # parses: a library
    (tmp_path / "broken_lib.om").write_text("enum H { \n", encoding="utf-8")
    result = om("check", tmp_path)
    assert result.exit_code == 1, result.output
    assert "a.om:1:1: error[E001]: unexpected name 'catlog'" in result.stderr
    assert "did you mean 'catalog'?" in result.stderr
    assert "c.om:1:9: error[E001]: unexpected name 'C'; expected a string" in result.stderr
    assert "broken_lib.om:1:9: error[E004]" in result.stderr
    assert "ok " in result.stderr and "lib.om:" not in result.stderr.replace("broken_lib.om", "")
    files = json.loads(om("check", "--format", "json", tmp_path).stdout)["files"]
    codes = {Path(f["path"]).name: [d["code"] for d in f["diagnostics"]] for f in files}
    assert codes == {"b.om": [], "a.om": ["E001"], "broken_lib.om": ["E004"], "c.om": ["E001"]}


def test_check_a_folder_finds_roots_as_the_parser_reads_them(tmp_path: Path) -> None:
    """A byte order mark and `catalog"A"` (no space) are roots; a named pipe or a device
    named .om is not waited on, nor read without end."""
    (tmp_path / "bom.om").write_bytes(b'\xef\xbb\xbfcatalog "A" version "1"\n')
    (tmp_path / "tight.om").write_text('// c\ncatalog"B" version "1"\n', encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.om")
    (tmp_path / "zero.om").symlink_to("/dev/zero")
    result = om("check", "--format", "json", tmp_path)
    assert result.exit_code == 0, result.output
    assert [Path(f["path"]).name for f in json.loads(result.stdout)["files"]] == [
        "bom.om",
        "tight.om",
    ]


def test_catalog_text_in_the_ok_line_is_neither_markup_nor_terminal_codes(tmp_path: Path) -> None:
    catalog = tmp_path / "c.om"
    catalog.write_text('catalog "[bold]A\\u001b[31m" version "1"\n', encoding="utf-8")
    result = om("check", catalog)
    assert result.exit_code == 0, result.output
    assert "catalog '[bold]A\u241b[31m' version 1" in result.stderr


def test_an_empty_output_name_is_a_usage_error(tmp_path: Path) -> None:
    result = om("compile", EXAMPLE, "-o", "")
    assert result.exit_code == 2
    assert "-o needs a file name (or - for standard output)" in result.stderr


def test_check_missing_file_exits_1_with_e010(tmp_path: Path) -> None:
    result = om("check", tmp_path / "nope.om")
    assert result.exit_code == 1
    assert "error[E010]: cannot find" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--format", "xml", str(EXAMPLE)],
        ["check", "--bogus", str(EXAMPLE)],
        ["compile"],
        ["compile", str(EXAMPLE), "--bogus"],
        ["schema", "nope"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = om(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


# ---- om compile --------------------------------------------------------------------------------


def test_compile_to_stdout_prints_the_ir() -> None:
    result = om("compile", EXAMPLE)
    assert result.exit_code == 0
    assert result.stdout == dump_ir(compile_catalog(EXAMPLE).raise_on_error())


def test_compile_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "catalog.json"
    result = om("compile", EXAMPLE, "-o", target)
    assert result.exit_code == 0, result.output
    catalog = load_ir(target)
    assert catalog.name == "Acme Residential"
    assert f"wrote {target} ({catalog.content_hash[:19]})" in result.stderr
    assert result.stdout == ""
    assert [p.name for p in target.parent.iterdir()] == ["catalog.json"], "no temporary files"


def test_compile_a_folder_compiles_its_root_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = om("compile", EXAMPLE.parent, "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text() == dump_ir(compile_catalog(EXAMPLE).raise_on_error())


def test_compile_a_folder_of_several_catalogs_writes_nothing(tmp_path: Path) -> None:
    for name in ("a.om", "b.om"):
        (tmp_path / name).write_text(f'catalog "{name}" version "1"\n', encoding="utf-8")
    target = tmp_path / "out.json"
    result = om("compile", tmp_path, "-o", target)
    assert result.exit_code == 2
    assert "this folder holds 2 catalogs" in result.stderr
    assert not target.exists()


def test_compile_diagnostics_of_a_folder_name_the_root_file(tmp_path: Path) -> None:
    (tmp_path / "main.om").write_text('catalog "A" version "1"\nenum E { }\n', encoding="utf-8")
    result = om("compile", tmp_path)
    assert result.exit_code == 1
    assert f"{tmp_path / 'main.om'}:2:" in result.stderr


def test_compile_with_errors_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    result = om("compile", BROKEN, "-o", target)
    assert result.exit_code == 1
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    assert "error[E020]" in result.stderr
    assert f"{BROKEN}: 3 error(s); no IR written" in result.stderr


def test_compile_with_errors_keeps_the_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    target.write_text("previous", encoding="utf-8")
    assert om("compile", BROKEN, "-o", target).exit_code == 1
    assert target.read_text(encoding="utf-8") == "previous"


def test_compile_with_warnings_writes_the_ir(tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    result = om("compile", WARNS, "-o", target)
    assert result.exit_code == 0
    assert "warning[W001]" in result.stderr
    assert load_ir(target).name == "Bad"


# ---- om schema ---------------------------------------------------------------------------------


def test_schema_prints_the_ir_json_schema() -> None:
    result = om("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == ir_json_schema()
    assert result.stdout == json.dumps(ir_json_schema(), indent=2, sort_keys=True) + "\n"


def test_schema_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "ir.schema.json"
    assert om("schema", "ir", "-o", target).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "Catalog"


def test_unknown_schema_lists_the_known_ones() -> None:
    result = om("schema", "nope")
    assert "unknown schema 'nope'; choose one of:" in result.stderr
    assert "ir" in result.stderr


# ---- the installed command ---------------------------------------------------------------------


def run_om(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "om"
    env = {**os.environ, "NO_COLOR": "1"}
    command = [str(exe), *map(str, args)]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env)


def test_installed_om_command(tmp_path: Path) -> None:
    """One real process: the console script, its exit codes and its streams."""
    ok = run_om("check", "--format", "json", EXAMPLE)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["files"][0]["errors"] == 0
    bad = run_om("compile", BROKEN, "-o", tmp_path / "x.json")
    assert bad.returncode == 1
    assert "error[E090]" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "x.json").exists()
    assert run_om("check", "--format", "xml", EXAMPLE).returncode == 2


@pytest.mark.parametrize("where", ["file", "folder"])
def test_an_output_that_cannot_be_written_is_a_one_line_error(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    target = blocker / "catalog.json" if where == "file" else tmp_path
    result = om("compile", EXAMPLE, "-o", target)
    if where == "folder":  # a folder is a usage mistake, said before compiling
        assert result.exit_code == 2
        assert f"error: -o {target} is a folder; name a file in it" in result.output
    else:
        assert result.exit_code == 1
        assert f"error: cannot write {target}" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no temporary file left behind


def test_spans_quoted_in_hints_name_files_as_the_header_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header said `dup/root.om:3:6` but the hint `first declared at lib/a.om:1:6`, a path
    from the catalog's folder, not from where `om` ran (text and JSON alike)."""
    (tmp_path / "dup" / "lib").mkdir(parents=True)
    (tmp_path / "dup" / "root.om").write_text(
        'catalog "C" version "1"\nimport "lib/a.om"\nenum X { A }\n', encoding="utf-8"
    )
    (tmp_path / "dup" / "lib" / "a.om").write_text("enum X { B }\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    text = om("check", "dup/root.om")
    assert "dup/root.om:3:6: error[E021]" in text.output
    assert "hint: first declared at dup/lib/a.om:1:6" in text.output
    data = json.loads(om("check", "dup/root.om", "--format", "json").stdout)
    (diag,) = data["files"][0]["diagnostics"]
    assert (diag["file"], diag["hints"]) == ("dup/root.om", ["first declared at dup/lib/a.om:1:6"])


def test_relocate_rewrites_each_quoted_span_once_and_whole() -> None:
    from om_dsl.cli.diagnostics import relocate  # noqa: PLC0415
    from om_dsl.errors import Diagnostic, Severity  # noqa: PLC0415
    from om_dsl.source import SourceFile, Span  # noqa: PLC0415

    sources = {n: SourceFile(n, "") for n in ("main.om", "a.om", "lib/a.om")}
    diag = Diagnostic(
        "E070", Severity.ERROR, "maps it at a.om:2:3", Span("main.om", 1, 1, 1, 2),
        ("first at lib/a.om:1:6 and a.om:4:1", "import cycle: a.om -> main.om", "data.om:1:1"),
    )  # fmt: skip
    (moved,), _ = relocate([diag], sources, Path("cat/main.om"))
    assert moved.message == "maps it at cat/a.om:2:3"
    assert moved.hints == (
        "first at cat/lib/a.om:1:6 and cat/a.om:4:1",
        "import cycle: a.om -> main.om",  # no span: names as the compiler wrote them
        "data.om:1:1",  # not a loaded file
    )
