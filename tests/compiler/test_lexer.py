"""The hand-written lexer: token kinds, positions, doc comments, chunks and bad input."""

from __future__ import annotations

import pytest
from lark import Token

from om_dsl.errors import DiagnosticBag
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
