"""Multi-file catalogs: imports, the catalog root, cycles and the catalog header."""

from __future__ import annotations

from pathlib import Path

import pytest
from compiler_support import BASE, HEADER, Compile

from om_dsl.compiler.driver import compile_catalog
from om_dsl.source import Span

TYPES = "enum Color { Red, Green }\n"


def test_imports_are_loaded_depth_first_before_the_importer(om: Compile) -> None:
    compiled = om(
        'import "lib/a.om"\nimport "b.om"\n' + BASE,
        files={
            "lib/a.om": 'import "shared.om"\nenum A { X }\n',
            "lib/shared.om": TYPES,
            "b.om": 'import "lib/shared.om"\nenum B { Y }\n',
        },
    )
    cat = compiled.catalog
    assert cat.files == ["lib/shared.om", "lib/a.om", "b.om", "main.om"]
    assert [e.name for e in cat.enums] == ["Color", "A", "B", "Tech"]
    assert next(e for e in cat.enums if e.name == "Color").span.file == "lib/shared.om"


def test_diamond_import_is_loaded_once(om: Compile) -> None:
    compiled = om(
        'import "a.om"\nimport "b.om"\n' + BASE,
        files={"a.om": 'import "c.om"\n', "b.om": 'import "c.om"\n', "c.om": TYPES},
    )
    assert compiled.codes == []
    assert compiled.catalog.files.count("c.om") == 1


def test_spans_and_sources_use_paths_relative_to_the_root(om: Compile) -> None:
    compiled = om('import "sub/x.om"\n' + BASE, files={"sub/x.om": "enum X { Bad, Bad }\n"})
    diag = compiled.one("E029")
    assert (diag.span.file, diag.span.line) == ("sub/x.om", 1)
    assert set(compiled.result.sources) == {"main.om", "sub/x.om"}
    assert "enum X { Bad, Bad }" in diag.render(compiled.result.sources)


def test_import_not_found_is_e010(om: Compile) -> None:
    diag = om('import "missing.om"\n' + BASE).one("E010")
    assert diag.message == "cannot find 'missing.om'"
    assert (diag.span.line, diag.span.col) == (2, 8)


@pytest.mark.parametrize(
    ("written", "hints"),
    [
        ("types", ("did you mean 'types.om'?",)),  # the extension left out
        ("Types.om", ("did you mean 'types.om'?",)),  # file names are case-sensitive
        ("type.om", ("did you mean 'types.om'?",)),
        ("sub/types", ("did you mean 'sub/types.om'?",)),  # named as the message names it
        ("zzz.om", ()),
        ("nowhere/types.om", ()),  # no such folder
    ],
)
def test_a_missing_import_suggests_the_file_it_likely_meant(
    om: Compile, written: str, hints: tuple[str, ...]
) -> None:
    files = {"types.om": "enum T { A }\n", "sub/types.om": "enum U { A }\n"}
    diag = om(f'import "{written}"\n' + BASE, files=files).one("E010")
    assert diag.hints == hints


def test_import_of_a_directory_is_e010(om: Compile) -> None:
    diag = om('import "dir"\n' + BASE, files={"dir/x.om": ""}).one("E010")
    assert diag.message == "'dir' is a directory, not a .om file"


def test_import_of_a_non_utf8_file_is_e010(om: Compile, tmp_path: Path) -> None:
    (tmp_path / "latin1.om").write_bytes("enum E {\n  Caf\xe9 }".encode("latin-1"))
    diag = om('import "latin1.om"\n' + BASE).one("E010")
    assert diag.message == "'latin1.om' is not UTF-8 text"
    assert (diag.span.file, diag.span.line, diag.span.col) == ("main.om", 2, 8)  # the import
    assert diag.hints == ("the first byte that is not UTF-8 (0xE9) is at line 2, column 6",)


def test_import_leaving_the_root_is_e011(om: Compile) -> None:
    diag = om('import "../outside.om"\n' + BASE).one("E011")
    assert diag.message == "import '../outside.om' leaves the catalog root"
    assert diag.hints == ("the catalog root is the folder of main.om",)


def test_import_from_a_subfolder_may_go_up_within_the_root(om: Compile) -> None:
    compiled = om(
        'import "sub/a.om"\n' + BASE,
        files={"sub/a.om": 'import "../top.om"\n', "top.om": TYPES},
    )
    assert compiled.codes == []


def test_absolute_or_windows_import_path_is_e011(om: Compile) -> None:
    compiled = om('import "/etc/passwd"\nimport "a\\\\b.om"\nimport ""\n' + BASE)
    assert [d.message for d in compiled.of("E011")] == [
        "import path '/etc/passwd' must be relative",
        "import path 'a\\b.om' uses '\\'; separate folders with '/'",
        "import path '' must be relative",
    ]
    assert compiled.of("E011")[1].hints == ('write: import "a/b.om"',)


def test_lone_carriage_returns_end_lines(tmp_path: Path) -> None:
    """Classic Mac line ends: read as blanks, the first `//` comment hid the rest of the file."""
    root = tmp_path / "cr.om"
    root.write_bytes(b'catalog "A" version "1"\r// c\roffer X { attribute a: nosuch }\r')
    result = compile_catalog(root)
    assert [(d.code, d.span.line if d.span else 0) for d in result.diagnostics if d.is_error] == [
        ("E020", 3)
    ]


def test_import_path_with_a_nul_is_e011_not_a_crash(om: Compile) -> None:
    diag = om('import "a\\u0000b.om"\n' + BASE).one("E011")
    assert diag.message == "import path contains a NUL character (\\u0000)"


def test_import_cycle_is_e012_with_its_path(om: Compile) -> None:
    compiled = om(
        'import "a.om"\n' + BASE,
        files={"a.om": 'import "b.om"\n', "b.om": 'import "a.om"\n'},
    )
    diag = compiled.one("E012")
    assert diag.message == "import cycle: a.om -> b.om -> a.om"
    assert diag.span.file == "b.om"


def test_importing_the_root_file_is_a_cycle(om: Compile) -> None:
    diag = om('import "a.om"\n' + BASE, files={"a.om": 'import "main.om"\n'}).one("E012")
    assert diag.message == "import cycle: main.om -> a.om -> main.om"


def test_missing_header_is_e013(om: Compile) -> None:
    diag = om(BASE, header=False).one("E013")
    assert diag.message == "main.om has no catalog header"
    assert (diag.span.file, diag.span.line, diag.span.col) == ("main.om", 1, 1)
    assert diag.hints == ('start the root file with: catalog "Name" version "1"',)


def _catalog_with_parts(tmp_path: Path) -> Path:
    """A root file two folders up from the part it imports through another file."""
    (tmp_path / "mobile" / "deep").mkdir(parents=True)
    (tmp_path / "telco.om").write_text(HEADER + 'import "mobile/all.om"\n', encoding="utf-8")
    (tmp_path / "mobile" / "all.om").write_text('import "deep/offers.om"\n', encoding="utf-8")
    offers = tmp_path / "mobile" / "deep" / "offers.om"
    offers.write_text("offer Sim { attribute radio: RadioGen }\n", encoding="utf-8")
    return offers


def test_a_part_checked_alone_names_the_root_that_imports_it(tmp_path: Path) -> None:
    """An editor checks the file it saved: one E013 that says which root to check, instead of
    a header to add, unknown names declared beside it and offers without rules."""
    result = compile_catalog(_catalog_with_parts(tmp_path))
    assert [(d.code, d.message, d.hints) for d in result.diagnostics] == [
        (
            "E013",
            "offers.om has no catalog header: it is a part of the catalog "
            f"{tmp_path / 'telco.om'}, which imports it",
            (f"check the catalog from its root: om check {tmp_path / 'telco.om'}",),
        )
    ]


def test_the_root_is_shown_as_the_part_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _catalog_with_parts(tmp_path)
    monkeypatch.chdir(tmp_path / "mobile")
    diag = compile_catalog(Path("deep/offers.om")).diagnostics[0]
    assert diag.hints == ("check the catalog from its root: om check ../telco.om",)


def test_a_file_no_root_imports_keeps_the_missing_header_error(tmp_path: Path) -> None:
    part = _catalog_with_parts(tmp_path)
    (tmp_path / "mobile" / "all.om").write_text("", encoding="utf-8")
    diag = next(d for d in compile_catalog(part).diagnostics if d.code == "E013")
    assert diag.message == "offers.om has no catalog header"


def test_header_twice_is_e013(om: Compile) -> None:
    diag = om(HEADER + BASE).one("E013")
    assert diag.message == "the catalog header is given twice"
    assert diag.hints == ("first given at main.om:1:1",)


def test_header_in_an_imported_file_is_e013(om: Compile) -> None:
    diag = om('import "a.om"\n' + BASE, files={"a.om": HEADER}).one("E013")
    assert diag.message == "the catalog header belongs in the root file, not in an imported file"
    assert diag.span.file == "a.om"


def test_broken_header_gives_one_syntax_error_not_a_missing_header(om: Compile) -> None:
    compiled = om('catalog Test version "1"\n' + BASE, header=False)
    assert compiled.codes == ["E001"]


def test_misspelt_line_after_the_header_keeps_the_header(om: Compile) -> None:
    compiled = om('improt "x.om"\n' + BASE)
    assert compiled.codes == ["E001"]


def test_missing_root_file_is_e010_at_its_first_line(tmp_path: Path) -> None:
    """Editors and CI annotations need a file and a position for every diagnostic."""
    result = compile_catalog(tmp_path / "nope.om")
    assert [(d.code, d.message, d.span) for d in result.diagnostics] == [
        ("E010", f"cannot find '{tmp_path / 'nope.om'}'", Span("nope.om", 1, 1, 1, 1))
    ]
    assert result.catalog is None
    assert result.diagnostics[0].to_dict()["line"] == 1


@pytest.mark.parametrize(
    ("content", "message", "hints"),
    [
        (
            b"enum E { Caf\xe9 }",
            "is not UTF-8 text",
            ("the first byte that is not UTF-8 (0xE9) is at line 1, column 13",),
        ),
    ],
)
def test_an_unreadable_root_file_is_e010_at_its_first_line(
    tmp_path: Path, content: bytes, message: str, hints: tuple[str, ...]
) -> None:
    root = tmp_path / "cat.om"
    root.write_bytes(content)
    (diag,) = compile_catalog(root).diagnostics
    assert (diag.code, diag.message, diag.hints) == ("E010", f"'{root}' {message}", hints)
    assert diag.span == Span("cat.om", 1, 1, 1, 1)
    assert diag.headline().startswith("cat.om:1:1: error[E010]")


def test_a_folder_compiles_as_its_only_root_file(tmp_path: Path) -> None:
    """As every command takes it: ``compile_catalog("examples/catalog")``."""
    (tmp_path / "types.om").write_text(TYPES, "utf-8")  # imported: not a root
    (tmp_path / "main.om").write_text(HEADER + 'import "types.om"\n' + BASE, "utf-8")
    (tmp_path / "notes.txt").write_text('catalog "Not a catalog" version "1"\n', "utf-8")
    from_folder = compile_catalog(tmp_path)
    assert from_folder.ok, from_folder.diagnostics
    assert from_folder == compile_catalog(tmp_path / "main.om")


def test_a_folder_of_no_root_file_or_of_several_is_e010(tmp_path: Path) -> None:
    (tmp_path / "types.om").write_text(TYPES, "utf-8")
    (diag,) = compile_catalog(tmp_path).diagnostics
    assert (diag.code, diag.span) == ("E010", Span(tmp_path.name, 1, 1, 1, 1))
    assert diag.message.startswith("no catalog root file in this folder (a root file starts")
    for name in ("b.om", "a.om"):
        (tmp_path / name).write_text(HEADER + BASE, "utf-8")
    result = compile_catalog(tmp_path)
    assert result.catalog is None
    assert [d.message for d in result.diagnostics] == [
        f"this folder holds 2 catalogs ({tmp_path / 'a.om'}, {tmp_path / 'b.om'}); name one"
    ]


def test_root_file_read_from_disk(tmp_path: Path) -> None:
    (tmp_path / "cat.om").write_text(HEADER + BASE, encoding="utf-8")
    result = compile_catalog(tmp_path / "cat.om")
    assert result.ok
    assert result.catalog is not None and result.catalog.files == ["cat.om"]


def test_text_argument_overrides_the_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / "cat.om").write_text("garbage {{{", encoding="utf-8")
    assert compile_catalog(tmp_path / "cat.om", text=HEADER + BASE).ok


def test_a_leading_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    """Windows editors may save UTF-8 with a BOM: in the root file and in imported files."""
    (tmp_path / "types.om").write_bytes("\ufeffenum Color { Red }\n".encode())
    root = "\ufeff" + HEADER + 'import "types.om"\n' + BASE
    (tmp_path / "cat.om").write_bytes(root.encode())
    result = compile_catalog(tmp_path / "cat.om")
    assert result.diagnostics == [], [d.headline() for d in result.diagnostics]
    assert result.catalog is not None
    assert (result.catalog.enums[0].span.line, result.catalog.enums[0].span.col) == (1, 1)
    assert result.sources["cat.om"].text.startswith("catalog")  # excerpts line up
    assert compile_catalog(tmp_path / "cat.om", text=root).ok


def test_a_byte_order_mark_elsewhere_is_still_a_bad_character(om: Compile) -> None:
    diag = om(BASE + "\ufeffqueue q\n").one("E002")
    assert diag.message == "unexpected invisible character U+FEFF (ZERO WIDTH NO-BREAK SPACE)"
