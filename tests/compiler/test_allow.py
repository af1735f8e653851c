"""`// allow CODE` comments accept warnings on their line (docs/language.md, "Accepting a
warning")."""

from __future__ import annotations

from compiler_support import HEADER, Compile

from om_dsl.compiler.driver import compile_catalog

PROMO = 'offer Promo "Promo" id "9" { attribute pct: int default 10 }'


def test_an_allow_at_the_end_of_a_line_accepts_that_lines_warning(om: Compile) -> None:
    compiled = om(f"{PROMO} // allow W001\noffer Other {{ }}\n", base=True)
    assert compiled.codes == ["W001"]
    (left,) = compiled.of("W001")
    assert "Other" in left.message  # the one without an allow comment


def test_an_allow_alone_accepts_the_next_line_of_code(om: Compile) -> None:
    text = f"// allow W001 -- a discount: commercial only\n\n/// A promotion.\n{PROMO}\n"
    compiled = om(text, base=True)
    assert compiled.codes == []
    assert compiled.catalog.offers[-1].doc == "A promotion."


def test_several_codes_and_a_remark(om: Compile) -> None:
    text = "cfs Idle { attribute n: int merge max } // allow W002, W007 kept for later\n"
    compiled = om(text, base=True)
    assert compiled.codes == []


def test_an_allow_that_accepts_nothing_is_w009_at_its_code(om: Compile) -> None:
    compiled = om(f"{PROMO} // allow W001, W002\n", base=True)
    diag = compiled.one("W009")
    assert compiled.codes == ["W009"]
    assert diag.message == "nothing on line 15 raises W002: there is nothing to allow"
    assert diag.hints == ("remove W002 from the allow comment",)
    assert diag.span is not None
    line = compiled.result.sources["main.om"].line_text(diag.span.line)
    assert line[diag.span.col - 1 : diag.span.end_col - 1] == "W002"


def test_an_allow_on_the_wrong_line_accepts_nothing(om: Compile) -> None:
    compiled = om(f"{PROMO}\n// allow W001\n", base=True)
    assert sorted(compiled.codes) == ["W001", "W009"]


def test_errors_cannot_be_allowed(om: Compile) -> None:
    broken = om("offer X { attribute a: Tehc } // allow E020, W001\n", base=True)
    assert broken.codes == ["E020"]  # still reported, and no W009 while there are errors
    clean = om(f"{PROMO} // allow W001, E020\n", base=True)
    diag = clean.one("W009")
    assert diag.message == "E020 is an error, and only warnings can be allowed"


def test_no_w009_while_the_catalog_has_errors(om: Compile) -> None:
    compiled = om(f"{PROMO} // allow W004\noffer X {{ attribute a: Tehc }}\n", base=True)
    assert sorted(compiled.codes) == ["E020", "W001", "W001"]


def test_text_that_looks_like_an_allow_is_not_one(om: Compile) -> None:
    """`//` in a string is not a comment, `///` is a doc comment, and `allowed` is a word."""
    compiled = om(
        'offer A "A" id "1" { attribute u: string default "x // allow W001" }\n'
        "/// allow W001\n"
        'offer B "B" id "2" { }\n'
        'offer C "C" id "3" { } // allowed: W001\n'
        'offer D "D" id "4" { attribute u: string default "say \\"hi\\" // allow W001" }\n',
        base=True,
    )
    assert compiled.codes == ["W001"] * 4


def test_an_allow_in_an_imported_file(om: Compile) -> None:
    compiled = om(
        'import "promos.om"\n',
        files={"promos.om": f"// allow W001\n{PROMO}\noffer Other {{ }}\n"},
        base=True,
    )
    (left,) = compiled.of("W001")
    assert left.span is not None and left.span.file == "promos.om" and "Other" in left.message


def test_crlf_line_endings(tmp_path: object) -> None:
    text = HEADER.replace("\n", "\r\n") + f"{PROMO} // allow W001\r\n"
    result = compile_catalog("main.om", text=text)
    assert [d.code for d in result.diagnostics] == []
