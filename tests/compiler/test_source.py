"""Excerpts: the caret lands under what the span covers, whatever the line holds."""

from __future__ import annotations

from rich.cells import cell_len

from om_dsl.source import SourceFile, Span, excerpt, visible


def caret_under(text: str, span: Span) -> str:
    """The characters of the shown line above the carets."""
    _, shown, marker = excerpt(SourceFile("f.om", text), span).split("\n")
    start = marker.index("^")
    return shown[start : start + marker.count("^")]


def test_caret_under_the_span() -> None:
    assert caret_under("offer A { attribute x int }", Span("f.om", 1, 23, 1, 26)) == "int"


def test_tabs_are_shown_as_spaces_and_the_caret_follows() -> None:
    assert caret_under("\tattribute x int", Span("f.om", 1, 14, 1, 17)) == "int"
    assert caret_under("a\tb\tint", Span("f.om", 1, 5, 1, 8)) == "int"


def test_span_over_several_lines_underlines_to_the_end_of_the_first() -> None:
    assert caret_under("offer A {\n}", Span("f.om", 1, 7, 2, 2)) == "A {"


def test_span_at_the_end_of_the_line_gets_one_caret() -> None:
    out = excerpt(SourceFile("f.om", "depend A.b"), Span("f.om", 1, 11, 1, 12))
    assert out.split("\n")[2] == " " * 17 + "^"


def test_lines_are_split_at_newlines_only() -> None:
    """\\f or U+2028 inside a comment do not shift the lines the lexer counted."""
    text = "// a\u2028b\fc\r\nsecond line\r\n"
    assert SourceFile("f.om", text).line_text(2) == "second line"
    assert SourceFile("f.om", text).line_text(9) == ""


def test_gutter_shows_the_line_number() -> None:
    text = "\n" * 41 + "x = 1"
    lines = excerpt(SourceFile("f.om", text), Span("f.om", 42, 1, 42, 2)).split("\n")
    assert lines[0] == "     |"
    assert lines[1] == "  42 | x = 1"


def test_control_characters_are_shown_as_pictures_and_the_caret_follows() -> None:
    """A raw ESC in a comment or string must not reach the terminal as a colour change."""
    text = 'offer A "x\x1b[31m" { attribute x int }  // \x07'
    shown = excerpt(SourceFile("f.om", text), Span("f.om", 1, 32, 1, 35)).split("\n")[1]
    assert "\x1b" not in shown and "\x07" not in shown
    assert "x\u241b[31m" in shown and shown.endswith("// \u2407")
    assert caret_under(text, Span("f.om", 1, 32, 1, 35)) == "int"


def test_visible_keeps_tabs_and_optionally_line_breaks() -> None:
    assert visible("a\tb\x00c\x7f") == "a\tb\u2400c\u2421"
    assert visible("a\nb\r\n") == "a\u240ab\u240d\u240a"
    assert visible("a\nb\x1b\r\n", lines=True) == "a\nb\u241b\r\n"


def under_columns(text: str, span: Span) -> str:
    """The characters of the shown line whose terminal columns the carets cover (a wide
    character takes two columns, a combining one none)."""
    _, shown, marker = excerpt(SourceFile("f.om", text), span).split("\n")
    start, end = marker.index("^"), len(marker)
    found, column = [], 0
    for char in shown:
        if start <= column < end and (cell_len(char) or found):
            found.append(char)
        column += cell_len(char)
    return "".join(found)


def test_wide_and_zero_width_characters_keep_the_caret_under_the_span() -> None:
    """CJK and emoji take two terminal columns: the caret used to land 1 column early per
    such character before the span."""
    cjk = 'decompose O -> A { label = "日本語"; n = sped }'
    assert under_columns(cjk, Span("f.om", 1, 39, 1, 43)) == "sped"
    emoji = 'decompose O -> A { label = "😀😀"; n = sped }'
    assert under_columns(emoji, Span("f.om", 1, 38, 1, 42)) == "sped"
    combining = 'offer O "Cafe\u0301\u200b" { attribute x int }'  # e + accent, zero-width space
    assert under_columns(combining, Span("f.om", 1, 32, 1, 35)) == "int"


def test_a_long_line_is_shown_as_a_window_around_the_span() -> None:
    """A 160k-character line was printed whole, with a caret run as long."""
    line = "cfs A { attribute n: int default " + " " * 5000 + "12abc }" + "x" * 100_000
    col = line.index("12abc") + 1
    out = excerpt(SourceFile("f.om", line), Span("f.om", 1, col, 1, col + 5))
    _, shown, marker = out.split("\n")
    assert len(shown) < 200 and shown.startswith("   1 | …") and shown.endswith("…")
    assert marker.strip() == "^^^^^" and shown[marker.index("^") :].startswith("12abc")
    assert caret_under(line[:200], Span("f.om", 1, 1, 1, 4)) == "cfs"  # short lines whole
