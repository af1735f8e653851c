"""`om fmt`'s layout (om_dsl/syntax/formatter.py): what it writes, and what it must never change.

The invariants, on every catalog of the repository and on random re-spacings of the examples:
the output holds the input's tokens and comments, formatting it again changes nothing, the
catalog compiles to the same IR (spans aside), and the layout depends on the line breaks alone
(spaces and tabs inside and before a line do not change it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DiagnosticBag
from om_dsl.syntax.formatter import FormatterBug, format_text, same_tokens
from om_dsl.syntax.lexer import TOKEN_RE, TOP_LEVEL

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "catalog"
EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.om"))
FIXTURES = sorted((REPO / "tests" / "fixtures").rglob("*.om"))
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CATALOG_ROOTS = [
    EXAMPLES / "acme.om",
    *sorted((REPO / "tests" / "fixtures" / "valid").glob("*.om")),
]

MESSY = """\
catalog   "Messy"   version "1"
enum Technology{FTTH,FTTC,
DSL}
\torder {
\tattribute site_id:string
  }
system Inventory{url env( "INVENTORY_URL" , "http://127.0.0.1:8101" )
timeout 5s   retry exponential 1s max 5 cap 30s jitter
\t\t}
/// An offer.
offer HomeInternet "Home Internet" id "1" {
attribute speed : int in -5..1000 default -1 unit "Mbit/s"   // speed
      attribute technology: Technology default FTTH // tech
attribute tags: list[string] default ["a","b"]
}
cfs AccessLine scope order {attribute technology:Technology merge first
   attribute max_speed : int merge max }



decompose HomeInternet {

// a rule
-> AccessLine when speed>10 and
  technology in [FTTH,FTTC] {
technology=technology;max_speed=speed-1
   }
       -> AccessLine as second when not(speed < 5) {
        max_speed = map technology {
   FTTH : 1,
      default: -2
   }
        technology = if speed>=500 then FTTH else FTTC

      }
}
plan AccessLine on add,modify{
callout reserve : Inventory POST "/ports"
request {
technology : line.technology,
nested : { a : 1 , b : line.max_speed*2 }
}
response{port=body.port.id}
after done
  auto done handler "x.y"
  // the last item
}
depend AccessLine.reserve
   after AccessLine.done


"""


def fmt(text: str, file: str = "t.om") -> str:
    bag = DiagnosticBag()
    result = format_text(file, text, bag)
    assert result is not None, [d.message for d in bag.items]
    return result


def test_messy_catalog_is_laid_out(snapshot: SnapshotAssertion) -> None:
    assert fmt(MESSY) == snapshot


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_the_examples_are_formatted(path: Path) -> None:
    """The examples show the layout: `om fmt` leaves them as they are."""
    text = path.read_text(encoding="utf-8")
    assert fmt(text, path.name) == text


def _sources() -> list[tuple[str, str]]:
    found = [
        (p.relative_to(REPO).as_posix(), p.read_bytes().decode("utf-8", "replace"))
        for p in FIXTURES
    ]
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in re.finditer(r"```om[-a-z]*\n(.*?)```", text, re.S):
            line = text[: block.start()].count("\n") + 1
            found.append((f"{doc.name}:{line}", block.group(1)))
    return found


SOURCES = _sources()


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[n for n, _ in SOURCES])
def test_formatting_keeps_tokens_and_is_idempotent(name: str, text: str) -> None:
    """Every catalog file and docs example that parses: same tokens, and a fixed point."""
    result = format_text(name, text, DiagnosticBag())
    if result is None:  # a syntax error fixture: reported, not formatted
        return
    assert same_tokens(text, result)
    assert fmt(result, name) == result
    assert not re.search(r"[ \t]+$", result, re.M), "trailing whitespace"
    assert "\n\n\n" not in result
    assert result == "" or (result.endswith("\n") and not result.endswith("\n\n"))


def test_enough_sources_parse() -> None:
    """The test above is not vacuous: most of the repository's snippets are formatted."""
    formatted = sum(format_text(n, t, DiagnosticBag()) is not None for n, t in SOURCES)
    assert formatted >= 150


def _ir_without_spans(root: Path) -> Any:
    catalog = compile_catalog(root).raise_on_error()
    data = catalog.model_dump(mode="json", exclude={"content_hash"})
    return _strip(data)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if "span" not in k}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.parametrize("root", CATALOG_ROOTS, ids=lambda p: p.name)
def test_formatted_catalog_compiles_to_the_same_ir(root: Path, tmp_path: Path) -> None:
    """Formatting moves text, never meaning: the IR differs in its spans only."""
    copy = tmp_path / "catalog"
    shutil.copytree(root.parent, copy)
    for path in copy.rglob("*.om"):
        text = path.read_text(encoding="utf-8", errors="replace")
        result = format_text(path.name, text, DiagnosticBag())
        if result is not None:
            path.write_text(result, encoding="utf-8")
    assert _ir_without_spans(copy / root.name) == _ir_without_spans(root)


# ---- what the layout is --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # spacing inside a line
        ("enum T{A,B}\n", "enum T { A, B }\n"),
        ("offer O { attribute a : int in -5..5 default -1 }\n",
         "offer O { attribute a: int in -5..5 default -1 }\n"),
        ("offer O { attribute a: list[string] default [ \"x\" , \"y\" ] }\n",
         'offer O { attribute a: list[string] default ["x", "y"] }\n'),
        ("bundle B { includes O [0 .. *] }\n", "bundle B { includes O [0..*] }\n"),
        ("bundle B { includes O[1] }\n", "bundle B { includes O [1] }\n"),
        ("bundle B { includes O  or P  or Q[0..1] }\n",
         "bundle B { includes O or P or Q [0..1] }\n"),
        ("offer O { attribute a: list [int] }\n", "offer O { attribute a: list[int] }\n"),
        ("decompose O -> L { a = b-1; c = -d; e = f*(g+h) }\n",
         "decompose O -> L { a = b - 1; c = -d; e = f * (g + h) }\n"),
        ("decompose O -> L when not(a) and len( b )>0 { }\n",
         "decompose O -> L when not (a) and len(b) > 0 {}\n"),
        ('system S { url env ( "U" , "http://x" ) }\n', 'system S { url env("U", "http://x") }\n'),
        ("depend A . x after B . y\n", "depend A.x after B.y\n"),
        # soft keywords: `default` as a name is an operand, so `-` after it subtracts
        ("decompose O -> L { a = default-1 }\n", "decompose O -> L { a = default - 1 }\n"),
        # blank lines: one at most, none at the ends of a block or of the file
        ("\n\nqueue a\n\n\n\nqueue b\n\n", "queue a\n\nqueue b\n"),
        ("offer O {\n\n  family F\n\n}\n", "offer O {\n  family F\n}\n"),
        # comments: kept where written, trailing ones of consecutive lines aligned
        ("queue a // one\nqueue bbbb  // two\n", "queue a     // one\nqueue bbbb  // two\n"),
        ("offer O {\n    // inside\n}\n", "offer O {\n  // inside\n}\n"),
        ("offer O {\n  family F\n// last\n}\n", "offer O {\n  family F\n  // last\n}\n"),
        ("offer O {\n  /// doc\n        attribute a: int\n}\n",
         "offer O {\n  /// doc\n  attribute a: int\n}\n"),
        # a blank line after a `///` keeps it from documenting the line below: it stays
        ("offer O { /// doc\n\n  attribute a: int\n}\n",
         "offer O {  /// doc\n\n  attribute a: int\n}\n"),
        ("decompose O {\n  -> L { x = a\n  /// doc\n\n  } -> M\n}\n",
         "decompose O {\n  -> L { x = a\n       /// doc\n\n     } -> M\n}\n"),
        # `-` after a map expression subtracts
        ("decompose O -> L { c = map t { A: 1 } -1 }\n",
         "decompose O -> L { c = map t { A: 1 } - 1 }\n"),
        ("", ""),
        ("// only a comment", "// only a comment\n"),
    ],
)  # fmt: skip
def test_layout(before: str, after: str) -> None:
    assert fmt(before) == after


def test_continuation_lines_sit_four_deeper() -> None:
    before = (
        "plan L on add {\n"
        'callout c: S POST "/x"\n'
        "request { a: 1 }\n"
        "after b\n"
        'auto b handler "h"\n'
        "}\n"
    )
    assert fmt(before) == (
        "plan L on add {\n"
        '  callout c: S POST "/x"\n'
        "      request { a: 1 }\n"
        "      after b\n"
        '  auto b handler "h"\n'
        "}\n"
    )


def test_a_record_is_a_statement_of_its_plan() -> None:
    """``record`` starts a statement of the plan, as an item does; its value continues on
    the lines after it, four deeper."""
    before = (
        "plan L on add {\n"
        'auto r handler "h"\n'
        "      record   port =r.port\n"
        "record speed = if r.fast\n"
        "then 1000 else 100\n"
        "}\n"
    )
    assert fmt(before) == (
        "plan L on add {\n"
        '  auto r handler "h"\n'
        "  record port = r.port\n"
        "  record speed = if r.fast\n"
        "      then 1000 else 100\n"
        "}\n"
    )


def test_rule_blocks_hang_under_the_target() -> None:
    before = "decompose O {\n-> L {\na = 1\nb = 2\n}\n-> M\n}\n"
    assert fmt(before) == "decompose O {\n  -> L {\n       a = 1\n       b = 2\n     }\n  -> M\n}\n"


def test_multiline_brackets_and_maps() -> None:
    before = "decompose O -> L {\na = coalesce(\nb,\nc)\nd = map t {\nX: 1,\ndefault: 2\n}\n}\n"
    assert fmt(before) == (
        "decompose O -> L {\n"
        "  a = coalesce(\n"
        "      b,\n"
        "      c)\n"
        "  d = map t {\n"
        "    X: 1,\n"
        "    default: 2\n"
        "  }\n"
        "}\n"
    )


def test_a_table_is_laid_out_like_a_map_and_keeps_its_doc() -> None:
    before = (
        "   /// Access profile per speed tier.\n"
        'table Profile:int->string{100:"gpon-100",default:"gpon-1g"}\n'
        "table Fibre : Tech -> bool {\n"
        "Tech.FTTH: true,\n"
        "      DSL: false,\n"
        "}\n"
        "decompose O {\n"
        "-> L when map tech Fibre {\n"
        "profile = map speed Profile\n"
        "}\n"
        "}\n"
    )
    after = (
        "/// Access profile per speed tier.\n"
        'table Profile: int -> string { 100: "gpon-100", default: "gpon-1g" }\n'
        "table Fibre: Tech -> bool {\n"
        "  Tech.FTTH: true,\n"
        "  DSL: false,\n"
        "}\n"
        "decompose O {\n"
        "  -> L when map tech Fibre {\n"  # a `{` after a table's name opens the mappings
        "       profile = map speed Profile\n"
        "     }\n"
        "}\n"
    )
    assert fmt(before) == after
    assert fmt(after) == after


def test_a_map_of_a_map_counts_its_braces() -> None:
    """`map map t { ... } Gate {`: the inner map's `{` holds cases, the rule's `{` mappings."""
    before = "decompose O {\n-> L when map map t {\nA: 1,\n} Gate {\nx = 1\n}\n}\n"
    assert fmt(before) == (
        "decompose O {\n"
        "  -> L when map map t {\n"
        "       A: 1,\n"
        "     } Gate {\n"
        "       x = 1\n"
        "     }\n"
        "}\n"
    )


def test_line_endings_and_byte_order_mark_are_kept() -> None:
    assert fmt("queue  a\r\nqueue b\r\n") == "queue a\r\nqueue b\r\n"
    assert fmt("\ufeffqueue  a\n") == "\ufeffqueue a\n"


def test_lone_carriage_returns_become_line_feeds() -> None:
    assert fmt("queue  a\r// c\rqueue b\r") == "queue a\n// c\nqueue b\n"


def test_strings_are_kept_as_written() -> None:
    text = 'offer O "a  \\"b\\"  \\u00e9" { attribute a: string pattern "^[a-z]{2,3}$" }\n'
    assert fmt(text) == text


def test_a_file_with_syntax_errors_is_not_formatted() -> None:
    bag = DiagnosticBag()
    assert format_text("t.om", "offer O {\n attribute a int\n}\n", bag) is None
    assert [d.code for d in bag.items] == ["E001"]
    assert str(bag.items[0].span) == "t.om:2:14"


def test_a_change_of_tokens_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last guard: output that would not lex to the same tokens is never returned."""
    from om_dsl.syntax import formatter  # noqa: PLC0415

    monkeypatch.setattr(formatter, "_gap", lambda before, prev, cur: "")
    with pytest.raises(FormatterBug, match="would change the tokens"):
        format_text("t.om", "queue a\nqueue b\n", DiagnosticBag())


# ---- properties ----------------------------------------------------------------------------

_BLANKS = st.sampled_from([" ", "  ", "\t", " \t ", "    "])
_INDENTS = st.sampled_from(["", " ", "\t", "        ", "   \t"])


@st.composite
def respaced(draw: st.DrawFn) -> tuple[str, str]:
    """An example file with every run of spaces and tabs (indents included) drawn again:
    the same tokens on the same lines."""
    path = draw(st.sampled_from(EXAMPLE_FILES))
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for line in text.split("\n"):
        parts = [m.group(0) for m in TOKEN_RE.finditer(line) if m.lastgroup != "EOF"]
        pieces = [p.strip(" \t") for p in parts]
        joined = draw(_INDENTS) if pieces else ""
        for n, piece in enumerate(pieces):
            joined += (draw(_BLANKS) if n else "") + piece
        out.append(joined + draw(st.sampled_from(["", " ", "\t"])))
    return text, "\n".join(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(respaced())
def test_layout_depends_on_line_breaks_only(case: tuple[str, str]) -> None:
    original, spaced = case
    assert fmt(spaced) == original


@st.composite
def rebroken(draw: st.DrawFn) -> str:
    """An example file with random line breaks (some after a comment) added between tokens
    (never between a doc comment and what it documents)."""
    path = draw(st.sampled_from(EXAMPLE_FILES))
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "EOF":
            break
        if kind not in ("NL", "DOC", "COMMENT") and out and not out[-1].endswith("\n"):
            # a line that starts with a declaration keyword starts a declaration (even
            # indented, outside braces: docs/language.md), so no break before one
            breaks = [" "] if m.group(kind or 0) in TOP_LEVEL else ["\n  ", "\n\n  ", " // c\n  "]
            out.append(draw(st.sampled_from([" ", " ", " ", *breaks])))
        out.append(m.group(kind or 0) if kind == "NL" else m.group(0).lstrip(" \t"))
    return "".join(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rebroken())
def test_any_line_breaks_give_a_fixed_point_with_the_same_tokens(text: str) -> None:
    result = fmt(text)
    assert same_tokens(text, result)
    assert fmt(result) == result


@pytest.mark.parametrize(
    "text",
    [
        'catalog "T" version "1"\noffer O { /// doc\n\n  attribute a: int\n}\n',
        'catalog "T" version "1"\noffer O { attribute a: int }\ncfs L { attribute x: int }\n'
        "cfs M { attribute x: int }\ndecompose O {\n  -> L { x = a\n  /// doc\n\n  } -> M\n}\n",
    ],
)
def test_a_doc_comment_before_a_blank_line_documents_nothing_after_formatting_too(
    text: str, tmp_path: Path
) -> None:
    """Found by the fmt bug hunt: the blank line went, and the `///` documented the next line."""
    before, after = tmp_path / "before" / "c.om", tmp_path / "after" / "c.om"
    before.parent.mkdir()
    after.parent.mkdir()
    before.write_text(text, encoding="utf-8")
    after.write_text(fmt(text), encoding="utf-8")
    assert _ir_without_spans(after) == _ir_without_spans(before)


def test_an_index_sticks_to_what_it_indexes() -> None:
    messy = (
        'catalog "I" version "1"\n'
        "offer P { attribute xs: list[string] }\n"
        "resource L { attribute a: string  attribute b: string  attribute c: string }\n"
        'decompose P -> L { a = xs [ 0 ]; b = split(a, ",") [1]; c = [xs] [0] [ -1 ] }\n'
        "decompose P -> L when a or xs [0] == b\n"
    )
    laid_out = fmt(messy)
    assert "a = xs[0]" in laid_out
    assert "when a or xs[0] == b" in laid_out  # not the cardinality of `includes A or B [1]`
    assert 'b = split(a, ",")[1]' in laid_out
    assert "c = [xs][0][-1]" in laid_out
    assert fmt(laid_out) == laid_out


def test_a_conditional_depend_keeps_its_doc_and_continues_four_deeper() -> None:
    before = (
        "  /// The address first.\n"
        "depend   InternetService.configure after StaticAddress.assign within root when"
        " line.static_ip\n"
        "depend A.x after B.y\n"
        'when(line.a>1)and other.b=="p"\n'
    )
    after = (
        "/// The address first.\n"
        "depend InternetService.configure after StaticAddress.assign within root when"
        " line.static_ip\n"
        "depend A.x after B.y\n"
        '    when (line.a > 1) and other.b == "p"\n'
    )
    assert fmt(before) == after
    assert fmt(after) == after
