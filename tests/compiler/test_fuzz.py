"""Property test: the compiler never raises, whatever a catalog designer's editor holds.

Valid catalogs (the example catalog and the valid fixtures) are mutated token by token:
deleted, inserted, swapped and duplicated tokens, truncation, duplicated lines, injected
unicode, control characters and huge numbers, and long operator chains or nestings.  Every
result must be a CompileResult whose diagnostics are well formed.  ``OM_FUZZ_EXAMPLES`` sets
the number of cases (2,000 by default, which is what CI runs; about 30 s).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from compiler_support import raw_terminal_names, span_problems
from hypothesis import event, given, settings
from hypothesis import strategies as st

from om_dsl.compiler.driver import CompileResult, compile_catalog
from om_dsl.ir.io import dump_ir, load_ir
from om_dsl.syntax.lexer import KEYWORDS, PUNCTUATION

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("OM_FUZZ_EXAMPLES", "2000"))

# Tokens as the designer sees them, whitespace kept, so that "".join() restores the text.
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|\w+|\s+|\S')


def seeds() -> list[tuple[Path, str]]:
    paths = sorted((REPO / "examples" / "catalog").rglob("*.om"))
    paths += sorted((REPO / "tests" / "fixtures" / "valid").rglob("*.om"))
    return [(p, p.read_text(encoding="utf-8")) for p in paths]


SEEDS = seeds()

NASTY = [
    "é", "Ω", "💥", "\u200b", "\u2028", "\x00", "\x1b", "\t", "\r", "\r\n", "\f", "\\",
    '"', '"\\q"', '"\\u12"', "///", "/// doc\n", "\n", "9" * 17, "9" * 5000, "9" * 400 + ".5",
    "9007199254740993", "-0", "0s", "0.0", "1e9", "5min", "1.5h", "99999999999999999d",
    "..", "->", "[", "]", "{", "}", "(", ")", "*", "order", "version", "map", "default",
    "catalog", "import", 'import "../x.om"', 'import "/etc/hosts"', "__ANON_1", "$END",
]  # fmt: skip
VOCABULARY = sorted({*KEYWORDS, *PUNCTUATION, *NASTY})

Tokens = list[str]
Draw = Callable[[st.SearchStrategy[object]], object]


def _index(draw: Draw, tokens: Tokens, extra: int = 0) -> int:
    return int(draw(st.integers(0, max(0, len(tokens) - 1 + extra))))  # type: ignore[call-overload]


def _delete(draw: Draw, tokens: Tokens) -> Tokens:
    i = _index(draw, tokens)
    return tokens[:i] + tokens[i + 1 :]


def _insert(draw: Draw, tokens: Tokens) -> Tokens:
    i = _index(draw, tokens, extra=1)
    piece = draw(
        st.sampled_from(VOCABULARY) | st.sampled_from(tokens or ["x"]) | st.text(max_size=8)
    )
    return [*tokens[:i], " ", str(piece), " ", *tokens[i:]]


def _swap(draw: Draw, tokens: Tokens) -> Tokens:
    if len(tokens) < 2:
        return tokens
    i, j = _index(draw, tokens), _index(draw, tokens)
    out = list(tokens)
    out[i], out[j] = out[j], out[i]
    return out


def _replace(draw: Draw, tokens: Tokens) -> Tokens:
    if not tokens:
        return tokens
    i = _index(draw, tokens)
    return [*tokens[:i], str(draw(st.sampled_from(VOCABULARY))), *tokens[i + 1 :]]


def _truncate(draw: Draw, tokens: Tokens) -> Tokens:
    return tokens[: _index(draw, tokens)]


def _duplicate_line(draw: Draw, tokens: Tokens) -> Tokens:
    lines = "".join(tokens).split("\n")
    i = _index(draw, lines)
    lines.insert(i, lines[i])
    return TOKEN.findall("\n".join(lines))


# Pieces that nest an expression one level more each time they repeat (see E052).
CHAINS = [" or x", " and true", " + 1", " - s", " * 2", "-", "not ", "(", "[", "abs(", "a: {"]


def _chain(draw: Draw, tokens: Tokens) -> Tokens:
    """A long operator chain or nesting: hundreds of levels must give E052, not a crash."""
    i = _index(draw, tokens, extra=1)
    piece = str(draw(st.sampled_from(CHAINS)))
    count = int(draw(st.integers(50, 600)))  # type: ignore[call-overload]
    return [*tokens[:i], piece * count, *tokens[i:]]


MUTATIONS = [_delete, _insert, _swap, _replace, _truncate, _duplicate_line, _chain]


@st.composite
def mutated(draw: Draw) -> tuple[Path, str]:
    path, text = draw(st.sampled_from(SEEDS))  # type: ignore[misc]
    tokens = TOKEN.findall(text)
    for _ in range(int(draw(st.integers(1, 5)))):  # type: ignore[call-overload]
        mutation = draw(st.sampled_from(MUTATIONS))
        tokens = mutation(draw, tokens)  # type: ignore[operator]
    return path, "".join(tokens)


def check_result(result: CompileResult) -> None:
    assert isinstance(result, CompileResult)
    has_errors = any(d.is_error for d in result.diagnostics)
    assert (result.catalog is None) == has_errors
    written = "\n".join(source.text for source in result.sources.values())
    for diag in result.diagnostics:
        assert re.fullmatch(r"[EW]0\d\d", diag.code), diag
        assert diag.message.strip(), diag
        for text in [diag.message, *diag.hints]:
            # A name the designer wrote (`cfs __ANON_1`) is not Lark leaking through.
            leaked = [name for name in raw_terminal_names(text) if name not in written]
            assert leaked == [], text
        assert span_problems(diag, result.sources) == []
        assert diag.render(result.sources).startswith(diag.headline())
        json.dumps(diag.to_dict())
    if result.catalog is not None:
        assert load_ir(dump_ir(result.catalog)) == result.catalog


def test_seeds_compile_cleanly() -> None:
    """The mutations start from valid catalogs (imported files alone lack a header)."""
    for path, text in SEEDS:
        result = compile_catalog(path, text=text)
        check_result(result)
        if re.search(r'^catalog "', text, re.MULTILINE):
            assert result.ok, path


@settings(max_examples=EXAMPLES, deadline=None)
@given(mutated())
def test_mutated_catalogs_never_crash_the_compiler(case: tuple[Path, str]) -> None:
    path, text = case
    result = compile_catalog(path, text=text)
    check_result(result)
    for code in sorted({d.code for d in result.diagnostics}):
        event(code)  # see the spread with --hypothesis-show-statistics


@settings(max_examples=max(1, EXAMPLES // 10), deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_never_crashes_the_compiler(text: str) -> None:
    check_result(compile_catalog(REPO / "examples" / "catalog" / "acme.om", text=text))
