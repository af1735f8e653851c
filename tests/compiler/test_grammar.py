"""The grammar resource: a conflict-free LALR(1) table with every terminal named."""

from __future__ import annotations

import re
from pathlib import Path

from lark import Lark

from om_dsl.syntax.lexer import KEYWORDS, PUNCTUATION
from om_dsl.syntax.parser import grammar_text


def test_grammar_builds_in_strict_mode() -> None:
    """strict=True fails on a shift/reduce conflict or on colliding terminals (interegular)."""
    parser = Lark(grammar_text(), parser="lalr", strict=True)
    assert parser.parse('catalog "A" version "1"') is not None


def test_every_terminal_is_named() -> None:
    """No anonymous terminals: they would surface as __ANON_n in Lark's own messages."""
    parser = Lark(grammar_text(), parser="lalr")
    assert not [t.name for t in parser.terminals if t.name.startswith("__")]


def test_lexer_tables_match_the_grammar() -> None:
    """The hand-written lexer's keyword and punctuation tables name the grammar's terminals."""
    text = grammar_text()
    declared = dict(re.findall(r'^([A-Z]+): "([^"]+)"$', text, re.MULTILINE))
    keywords = {k: v for k, v in declared.items() if v.isidentifier()}
    punct = {k: v for k, v in declared.items() if not v.isidentifier()}
    assert {v: k for k, v in keywords.items()} == KEYWORDS
    assert {v: k for k, v in punct.items()} == PUNCTUATION


def test_the_example_catalog_parses_with_lark_alone() -> None:
    """The benchmark baseline: Lark's own contextual lexer handles the same grammar."""
    parser = Lark(grammar_text(), parser="lalr")
    root = Path(__file__).resolve().parents[2] / "examples" / "catalog"
    for path in sorted(root.rglob("*.om")):
        assert parser.parse(path.read_text(encoding="utf-8")) is not None, path
