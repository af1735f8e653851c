"""The hand-written lexer: token kinds, positions, doc comments, chunks and bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token

from om_dsl.errors import DiagnosticBag
from om_dsl.syntax import lexer as lexer_module
from om_dsl.syntax.lexer import Lexer, LexResult, duration_ms, split_chunks


def lex(text: str) -> tuple[LexResult, DiagnosticBag]:
    bag = DiagnosticBag()
    return Lexer("f.om", text, bag).run(), bag


def tokens(text: str) -> list[Token]:
    result, _ = lex(text)
    return [tok for chunk in result.chunks for tok in chunk]


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.type, str(t)) for t in tokens(text)]


def test_kinds_of_every_token_class() -> None:
    text = 'offer X "Name" 12 3.5 500ms 2d -> .. == != <= >= . , ; : < > = + - * / % ( ) { } [ ]'
    assert kinds(text) == [
        ("NAME", "offer"),
        ("NAME", "X"),
        ("STRING", "Name"),
        ("INT", "12"),
        ("DECIMAL", "3.5"),
        ("DURATION", "500ms"),
        ("DURATION", "2d"),
        *[
            (kind, op)
            for kind, op in [
                ("ARROW", "->"), ("DOTDOT", ".."), ("EQ", "=="), ("NE", "!="), ("LE", "<="),
                ("GE", ">="), ("DOT", "."), ("COMMA", ","), ("SEMI", ";"), ("COLON", ":"),
                ("LT", "<"), ("GT", ">"), ("ASSIGN", "="), ("PLUS", "+"), ("MINUS", "-"),
                ("STAR", "*"), ("SLASH", "/"), ("PERCENT", "%"), ("LPAR", "("), ("RPAR", ")"),
                ("LBRACE", "{"), ("RBRACE", "}"), ("LBRACKET", "["), ("RBRACKET", "]"),
            ]
        ],
    ]  # fmt: skip


def test_keywords_are_names_until_the_parser_decides() -> None:
    """Soft keywords: the lexer never emits a keyword kind, so `order` can be a name."""
    assert kinds("order version plan") == [
        ("NAME", "order"),
        ("NAME", "version"),
        ("NAME", "plan"),
    ]


def test_range_of_ints_is_not_a_decimal() -> None:
    assert kinds("50..1000") == [("INT", "50"), ("DOTDOT", ".."), ("INT", "1000")]


def test_positions_are_one_based_and_end_exclusive() -> None:
    toks = tokens('catalog "A"\n  version\t"1"')
    spans = [(t.line, t.column, t.end_line, t.end_column) for t in toks]
    assert spans == [(1, 1, 1, 8), (1, 9, 1, 12), (2, 3, 2, 10), (2, 11, 2, 14)]


def test_string_escapes_are_decoded() -> None:
    assert kinds(r'"a\"b\\c\n\u00e9"') == [("STRING", 'a"b\\c\né')]


def test_comments_and_whitespace_are_skipped() -> None:
    assert kinds("a // a comment\r\n\tb\f") == [("NAME", "a"), ("NAME", "b")]


@pytest.mark.parametrize(
    ("text", "ms"),
    [("500ms", 500), ("5s", 5_000), ("10m", 600_000), ("2h", 7_200_000), ("2d", 172_800_000)],
)
def test_duration_ms(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


def test_doc_comments_attach_to_the_next_line() -> None:
    result, _ = lex("/// first\n/// second\noffer A {}\n")
    assert result.docs == {3: "first\nsecond"}


def test_doc_comment_separated_by_a_blank_line_is_dropped() -> None:
    result, _ = lex("/// lost\n\noffer A {}\n/// kept\ncfs B {}\n")
    assert result.docs == {5: "kept"}


def test_doc_comment_is_not_a_token() -> None:
    assert kinds("/// doc\nx") == [("NAME", "x")]


def test_chunks_split_at_top_level_keywords() -> None:
    result, _ = lex('catalog "A" version "1"\noffer A {\n  attribute x: int\n}\ncfs B {}\n')
    firsts = [chunk[0].value for chunk in result.chunks]
    assert firsts == ["catalog", "offer", "cfs"]


def test_keyword_inside_braces_does_not_split() -> None:
    """`plan` at the start of a line inside a block is a name there, not a new declaration."""
    result, _ = lex("offer A {\n  plan: int\n}\n")
    assert len(result.chunks) == 1


def test_keyword_in_column_one_recovers_from_a_missing_brace() -> None:
    result, _ = lex("offer A {\n  attribute x: int\noffer B {}\n")
    assert [chunk[0].value for chunk in result.chunks] == ["offer", "offer"]


def test_order_before_dot_does_not_start_a_chunk() -> None:
    """`order.site_id` at the start of a line continues an expression."""
    text = "decompose A {\n-> B {\nx =\norder.site_id }\n}\norder { attribute y: int }\n"
    result, _ = lex(text)
    assert [chunk[0].value for chunk in result.chunks] == ["decompose", "order"]


def test_keyword_after_another_token_on_the_same_line_does_not_split() -> None:
    result, _ = lex("offer A {} offer B {}\n")
    assert len(result.chunks) == 1


def test_split_chunks_of_nothing() -> None:
    assert split_chunks([]) == []


def test_bad_character_is_reported_and_skipped() -> None:
    result, bag = lex("offer A @ {}")
    assert [d.code for d in bag.items] == ["E002"]
    diag = bag.items[0]
    assert diag.message == "unexpected character '@'"
    assert (diag.span.line, diag.span.col) == (1, 9)  # type: ignore[union-attr]
    assert "@" not in [t.value for chunk in result.chunks for t in chunk]


def test_unprintable_character_is_shown_escaped() -> None:
    _, bag = lex("a \x00 \u200b b")
    assert [d.message for d in bag.items] == [
        "unexpected character U+0000",
        "unexpected invisible character U+200B (ZERO WIDTH SPACE)",
    ]


def test_a_name_with_invisible_characters_is_one_error_and_reads_as_it_looks() -> None:
    result, bag = lex("offer Ho\u200bme\u00ad_2 Next")
    toks = [tok for chunk in result.chunks for tok in chunk]
    assert [(t.type, t.value, t.column, t.end_column) for t in toks[:3]] == [
        ("NAME", "offer", 1, 6),
        ("NAME", "Home_2", 7, 15),
        ("NAME", "Next", 16, 20),
    ]
    assert [(d.code, d.message) for d in bag.items] == [
        ("E002", "invisible character U+200B (ZERO WIDTH SPACE) in the name 'Home_2'")
    ]


def test_non_ascii_letters_are_bad_characters() -> None:
    _, bag = lex("offer Café {}")
    assert [d.code for d in bag.items] == ["E002"]
    assert "é" in bag.items[0].message


def test_unterminated_string_still_yields_a_string() -> None:
    _, bag = lex('x "abc\ny')
    assert [d.code for d in bag.items] == ["E003"]
    assert "unterminated string" in bag.items[0].message
    assert kinds('x "abc\ny') == [("NAME", "x"), ("STRING", "abc"), ("NAME", "y")]


def test_a_raw_control_character_in_a_string_is_e003_at_the_character() -> None:
    result, bag = lex('x "red\x1b[31m" "tab\tok" "esc\\u001bok"')
    assert [(d.code, d.message) for d in bag.items] == [
        ("E003", "a control character (U+001B) in a string")
    ]
    assert (bag.items[0].span.col, bag.items[0].span.end_col) == (7, 8)
    assert "write it as an escape (\\u001b)" in bag.items[0].hints[0]
    values = [t.value for c in result.chunks for t in c]
    assert values == ["x", "red\x1b[31m", "tab\tok", "esc\x1bok"]  # parsing goes on


def test_control_characters_outside_strings_do_not_cost_a_search_per_string() -> None:
    """A CRLF file has \r outside every string: no string of it is reported."""
    _, bag = lex('x "a"\r\ny "b"\r\n')
    assert bag.items == []


def test_scope_order_split_over_two_lines_is_one_declaration() -> None:
    result, bag = lex("cfs X scope\n  order {\n  attribute a: int\n}\n")
    assert bag.items == []
    assert len(result.chunks) == 1


def test_invalid_escape_is_reported() -> None:
    _, bag = lex(r'"bad \q escape"')
    assert [d.code for d in bag.items] == ["E003"]
    assert bag.items[0].message == "invalid escape sequence in string"


@pytest.mark.parametrize(
    "text", ["5sec", "2x", "1e3", "1.5h", "9" * 17, "9" * 5000, "9" * 20 + "ms"]
)
def test_bad_numbers_are_left_to_the_parser(text: str) -> None:
    """The lexer cannot tell a duration from a number: the parser fits and reports them."""
    result, bag = lex("timeout " + text)
    assert not bag.items
    assert kinds("timeout " + text)[-1] == ("BADNUM", text)
    assert [(t.type, written) for t, written in result.bad_numbers] == [("BADNUM", text)]


def test_sixteen_digits_are_still_an_int() -> None:
    _, bag = lex("9007199254740992")
    assert not bag.items
    assert kinds("9007199254740992") == [("INT", "9007199254740992")]


def test_huge_decimal_is_left_to_the_compiler() -> None:
    """A float never hits the digit limit; the compiler reports an infinite value."""
    text = "9" * 400 + ".5"
    assert kinds(text) == [("DECIMAL", text)]


def test_lexer_keeps_going_after_errors() -> None:
    _, bag = lex('@ "\\q" $ 5x "open')
    assert [d.code for d in bag.items] == ["E002", "E003", "E002", "E003"]


def test_other_languages_operators_are_read_as_ours_after_one_error() -> None:
    result, bag = lex("a && !b || c == 'x' # rest")
    toks = [(t.type, t.value) for chunk in result.chunks for t in chunk]
    assert toks == [
        ("NAME", "a"), ("NAME", "and"), ("NAME", "not"), ("NAME", "b"), ("NAME", "or"),
        ("NAME", "c"), ("EQ", "=="), ("STRING", "x"),
    ]  # fmt: skip
    assert [(d.code, d.hints[0]) for d in bag.items] == [
        ("E002", "write 'and'"),
        ("E002", "write 'not'"),
        ("E002", "write 'or'"),
        ("E003", 'write "x"'),
        ("E002", "comments start with //"),
    ]


def test_typeset_quotes_and_operators_are_read_as_ours_after_one_error() -> None:
    """Text pasted from a word processor or a chat app: curly quotes around the catalog's
    name made a missing header (E013) and two stray characters; typeset operators were stray
    characters too."""
    result, bag = lex(
        "\u201cLab\u201d \u2018x\u2019 a \u2265 1 \u2192 b \u2260 c \u2212 2 \u00d7 3 \u21d2 \u2264"
    )
    toks = [(t.type, t.value) for chunk in result.chunks for t in chunk]
    assert toks == [
        ("STRING", "Lab"), ("STRING", "x"), ("NAME", "a"), ("GE", ">="), ("INT", "1"),
        ("ARROW", "->"), ("NAME", "b"), ("NE", "!="), ("NAME", "c"), ("MINUS", "-"),
        ("INT", "2"), ("STAR", "*"), ("INT", "3"), ("ARROW", "->"), ("LE", "<="),
    ]  # fmt: skip
    straight = " with straight quotes (editors and chat apps curl them)"
    assert [(d.code, d.message, d.hints[0]) for d in bag.items] == [
        ("E003", "a string in curly quotes", 'write "Lab"' + straight),
        ("E003", "a string in curly quotes", 'write "x"' + straight),
        ("E002", "unexpected '\u2265'", "write '>='"),
        ("E002", "unexpected '\u2192'", "write '->'"),
        ("E002", "unexpected '\u2260'", "write '!='"),
        ("E002", "unexpected '\u2212'", "write '-'"),
        ("E002", "unexpected '\u00d7'", "write '*'"),
        ("E002", "unexpected '\u21d2'", "write '->'"),
        ("E002", "unexpected '\u2264'", "write '<='"),
    ]


def test_curly_quotes_inside_a_string_are_text() -> None:
    result, bag = lex('"He said \u201chi\u201d"')
    assert [(t.type, t.value) for t in result.chunks[0]] == [("STRING", "He said \u201chi\u201d")]
    assert not bag.items


# ---- the scan: findall's pieces classified as TOKEN_RE's alternatives ------------------------

FRAGMENTS = [
    "offer",
    "X",
    "_a1",
    "order",
    " ",
    "  ",
    "\t",
    "\r",
    "\f",
    "\n",
    "\x0b",
    "\x00",
    "0",
    "7",
    "0042",
    "12345678901234567",
    "000012345678901234567",
    "99999999999999999999",
    "1.5",
    "1.",
    ".5",
    "500ms",
    "2d",
    "5min",
    "1.5h",
    "12345678901234567s",
    "3x",
    "1e5",
    '"a"',
    '""',
    '"',
    '"a\\"',
    '"a\\\\"',
    '"\\\\\\""',
    '"x\\n"',
    '"unterminated',
    '"é"',
    "//",
    "// c",
    "///",
    "/// doc",
    "/",
    "->",
    "..",
    "...",
    "==",
    "!=",
    "!",
    "&&",
    "&",
    "||",
    "|",
    "'s'",
    "'",
    "#",
    "# x",
    "{",
    "}",
    "[",
    "]",
    "-",
    "é",
    "Télé",
    "\u200b",
    "Ho\u200bme",
    "@",
    "$",
    "`",
    "~",
    "?",
    "\\",
    "\ufeff",
]


def scan_alternatives(text: str) -> list[tuple[int, int, str]]:
    """(alternative, start, text) of every piece, as the lexer's loop decides them."""
    lexer = Lexer("f.om", text, DiagnosticBag())
    scan = lexer_module._SCAN_RE_INVISIBLE if lexer._invisible else lexer_module._SCAN_RE
    out = []
    offset = 0
    for blanks, piece in scan.findall(text):
        if not piece:  # the end of the text
            continue
        start = offset + len(blanks)
        offset = start + len(piece)
        index = lexer_module._FIRST.get(piece[0], lexer_module._EXACT)  # KeyError: _EXACT
        if index < 0:
            index = lexer_module._alternative(piece, index)
        if index == lexer_module._EXACT:
            index = lexer._exact(start)
        if index != lexer_module._EOF:
            out.append((index, start, piece))
    return out


def matched_alternatives(text: str) -> list[tuple[int, int, str]]:
    """The same, read from TOKEN_RE's matches (the lexer's definition of a token)."""
    invisible = not text.isascii() and lexer_module.INVISIBLE.search(text) is not None
    regex = lexer_module._TOKEN_RE_INVISIBLE if invisible else lexer_module.TOKEN_RE
    out = []
    for m in regex.finditer(text):
        index = m.lastindex or lexer_module._EOF
        if index != lexer_module._EOF:  # it can match twice at the end, after blanks
            out.append((index, m.start(index), m[index]))
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_the_scan_finds_the_pieces_and_alternatives_that_token_re_matches(
    fragments: list[str],
) -> None:
    text = "".join(fragments)
    assert scan_alternatives(text) == matched_alternatives(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_the_scan_agrees_with_token_re_on_any_text(text: str) -> None:
    assert scan_alternatives(text) == matched_alternatives(text)


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_the_scan_agrees_with_token_re_on_each_fragment_between_others(fragment: str) -> None:
    for text in (fragment, f"a {fragment} b", f"1{fragment}.5\n{fragment}x", f'"{fragment}"'):
        assert scan_alternatives(text) == matched_alternatives(text)
