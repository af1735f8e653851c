"""Parse one .om file into an AST, reporting every syntax error in words.

The grammar (a package resource) is compiled by Lark into an LALR parse table, kept in a
generated file (:mod:`.tables`).  Tokens come from our own lexer and are fed to that table by a
small driver loop (:mod:`.lalr`) that also resolves soft keywords: an identifier becomes a
keyword only in a state where the keyword can be shifted.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from om_dsl.errors import Diagnostic, DiagnosticBag, Severity
from om_dsl.source import Span
from om_dsl.syntax import ast, numbers
from om_dsl.syntax.broken import broken_decl, declaration_keyword
from om_dsl.syntax.builder import AstBuilder
from om_dsl.syntax.describe import describe_expected, describe_token
from om_dsl.syntax.hints import CLOSERS, misplaced_closer, tailored_hints, unclosed
from om_dsl.syntax.lalr import Reduction, SyntaxProblem, reductions, run
from om_dsl.syntax.lexer import (
    KEYWORDS,
    NOT_A_NAME,
    TOP_LEVEL,
    UNTERMINATED,
    Lexer,
    Tok,
    close_keyword,
    end_token,
    token_span,
)
from om_dsl.syntax.tables import grammar_text, lark_parser, load_tables

if TYPE_CHECKING:
    from lark import Lark

__all__ = ["grammar_text", "parse_module", "parse_tokens"]


@functools.cache
def _lark() -> Lark:
    """The grammar as a Lark parser: for tests (parsing uses the table of :mod:`.tables`,
    which needs no Lark at run time)."""
    return lark_parser(grammar_text())


def _run(tokens: list[Tok], callbacks: list[Reduction], end: Tok) -> Any:
    """Run the LALR driver (:mod:`om_dsl.syntax.lalr`) on one chunk of tokens."""
    return run(load_tables(), tokens, callbacks, end)


MAX_ERRORS_PER_FILE = 100
"""Lexing and parsing a file stop at its 101st error, which becomes one E009: a binary or
random file would otherwise give hundreds of thousands of diagnostics (375k for 2 MB, and
nearly two minutes to print them) where the first few say all there is to say."""

TOO_MANY_ERRORS = "E009"


class _TooManyErrors(Exception):
    def __init__(self, span: Span | None) -> None:
        super().__init__()
        self.span = span


class _CappedBag(DiagnosticBag):
    """One file's syntax diagnostics, stopping the work at the error past the cap."""

    def error(self, code: str, message: str, span: Span | None, *hints: str) -> None:
        if sum(d.is_error for d in self.items) >= MAX_ERRORS_PER_FILE:
            raise _TooManyErrors(span)
        super().error(code, message, span, *hints)


def parse_module(file: str, text: str, diagnostics: DiagnosticBag) -> ast.Module:
    """Parse ``text``; syntax errors go to ``diagnostics`` and their declarations are dropped.

    A dropped declaration is recorded in ``Module.broken`` with the names it would have
    provided, so that the compiler does not report them as unknown.  After
    :data:`MAX_ERRORS_PER_FILE` errors the file is abandoned with one E009 (deterministic:
    always the first 100 in source order of discovery, then the stop).
    """
    return parse_tokens(file, text, diagnostics)[0]


def parse_tokens(
    file: str, text: str, diagnostics: DiagnosticBag
) -> tuple[ast.Module, list[list[Tok]]]:
    """:func:`parse_module`, plus the tokens it read, in top-level chunks.

    Parsing settles each soft keyword: a token's ``type`` is then the keyword where the
    grammar read one (``default`` in ``attribute x: int default 5``) and ``NAME`` where it
    read a name.  The formatter (:mod:`.formatter`) lays lines out by those kinds.
    """
    module = ast.Module(file, [])
    bag = _CappedBag()
    chunks: list[list[Tok]] = []
    try:
        chunks = _parse_into(module, text, bag)
    except _TooManyErrors as stop:
        bag.items.append(_stop_diagnostic(file, stop.span))
    diagnostics.extend(bag.items)
    return module, chunks


def _parse_into(module: ast.Module, text: str, bag: DiagnosticBag) -> list[list[Tok]]:
    file = module.file
    lexed = Lexer(file, text, bag).run()
    builder = AstBuilder(file, lexed.docs)
    callbacks = reductions(load_tables(), builder)
    unexpected: list[Tok] = []
    stray = sorted({d.span.line for d in bag.items if d.code == STRAY_CHARACTER and d.span})
    for chunk in lexed.chunks:
        if stray and _holds_a_line(chunk, stray):
            unexpected += _drop_chunk(file, chunk, callbacks, module, bag)
            continue
        unexpected += _parse_chunk(file, chunk, callbacks, module, bag)
    numbers.report(file, lexed.bad_numbers, bag, unexpected)
    module.bad_numbers = [token_span(file, tok) for tok, _ in lexed.bad_numbers]
    return lexed.chunks


STRAY_CHARACTER = "E002"
"""The lexer's "unexpected character": reported and skipped, so the declaration around it may
still parse, but as something else than was written (`offer Café` reads as `offer Caf`)."""


def _holds_a_line(chunk: list[Tok], lines: list[int]) -> bool:
    first, last = chunk[0].line, chunk[-1].line
    return any(first <= line <= last for line in lines)


def _drop_chunk(
    file: str, chunk: list[Tok], callbacks: list[Reduction], module: ast.Module, bag: DiagnosticBag
) -> list[Tok]:
    """A declaration with a stray character is left out like any declaration with a syntax
    error (its other syntax errors are still reported): otherwise `offer Café` also gave
    "offer Caf produces no technical work", a consequence of the E002, not a second mistake."""
    scratch = ast.Module(file, [])
    unexpected = _parse_chunk(file, chunk, callbacks, scratch, bag)
    module.broken += scratch.broken
    module.broken.append(broken_decl(chunk))
    return unexpected


def _stop_diagnostic(file: str, span: Span | None) -> Diagnostic:
    return Diagnostic(
        TOO_MANY_ERRORS,
        Severity.ERROR,
        f"too many errors in {file}; stopping after {MAX_ERRORS_PER_FILE}",
        span,
        ("fix the errors above (is this a .om file?); the rest of the file was not read",),
    )


def _parse_chunk(
    file: str, chunk: list[Tok], callbacks: list[Reduction], module: ast.Module, bag: DiagnosticBag
) -> list[Tok]:
    """Parse one top-level chunk; after an error, resume at a misspelt keyword in column 1.

    Returns the tokens reported as unexpected.
    """
    unexpected: list[Tok] = []
    while chunk:
        try:
            module.decls.extend(_run(chunk, callbacks, end_token(chunk[-1])))
            break
        except SyntaxProblem as problem:
            bad = next((i for i, tok in enumerate(chunk) if tok is problem.token), len(chunk))
            _report(file, problem, bag, chunk, bad)
            unexpected.append(problem.token)
            prefix = _complete_prefix(chunk, bad, callbacks)
            module.decls.extend(prefix)
            restart = _restart(chunk, bad)
            module.broken.append(broken_decl(chunk[bad if prefix else 0 : restart]))
            chunk = chunk[restart:]
    return unexpected


def _complete_prefix(chunk: list[Tok], bad: int, callbacks: list[Reduction]) -> list[Any]:
    """The declarations that end right before a syntax error in the same chunk.

    A line that starts with a misspelt keyword (`improt`, `ofer`) does not start a chunk, so
    it is parsed together with the declaration above it; keeping that declaration avoids a
    cascade of errors (no catalog header, unknown product).  An error in the middle of a line
    is inside the declaration written on it, so what precedes it is no declaration of its own
    (`... when speed = 100` would otherwise be kept as a rule whose condition is `speed`).
    """
    if bad == 0 or bad == len(chunk) or chunk[bad].line == chunk[bad - 1].line:
        return []
    try:
        return list(_run(chunk[:bad], callbacks, end_token(chunk[bad])))
    except SyntaxProblem:
        return []


def _restart(chunk: list[Tok], bad: int) -> int:
    """Where parsing resumes after an error at ``chunk[bad]``: the end of the chunk, or a line
    after the error that starts in column 1 with a misspelt top-level keyword and a name
    (`ofer Tv`, `improt "x.om"`), which is then reported on its own, with a did-you-mean.

    Only after an error: a column-1 name in a declaration that parses is left alone.
    """
    for i in range(bad + 1, len(chunk) - 1):
        tok = chunk[i]
        if tok.column == 1 and chunk[i - 1].line != tok.line and _starts_like_decl(chunk, i):
            return i
    return len(chunk)


def _starts_like_decl(chunk: list[Tok], i: int) -> bool:
    follower = chunk[i + 1].type
    if follower not in ("NAME", "STRING", "LBRACE"):
        return False
    return declaration_keyword(chunk[i]) is not None and chunk[i].value not in TOP_LEVEL


def _report(
    file: str, problem: SyntaxProblem, bag: DiagnosticBag, chunk: list[Tok], bad: int
) -> None:
    """Report the syntax error at ``chunk[bad]`` (``bad`` is ``len(chunk)`` at its end)."""
    tok = problem.token
    if _unterminated_lines(bag, tok if tok.type != "$END" else None, chunk):
        return  # the string ran to the end of its line, brackets and all: E003 says so
    if _in_non_ascii_name(bag, tok, chunk, bad):
        return  # `l` of `Télé`, or `{` after `日本`: what E002 reported whole left behind
    if _right_after_a_stray_character(bag, tok, chunk, bad):
        return  # `2` of `speed ^ 2`: the E002 at `^` is the mistake, not a second one
    problem.expected -= _wrong_closers(chunk[:bad])
    expected = describe_expected(problem.expected)
    if tok.type == "$END":
        _report_end(file, chunk, problem.expected, bag)
        return
    hints = tailored_hints(chunk, bad, problem.expected) or _keyword_hint(tok, problem.expected)
    bag.error(
        "E001",
        f"unexpected {describe_token(tok)}; expected {expected}",
        token_span(file, tok),
        *hints,
    )


def _report_end(file: str, chunk: list[Tok], expected: set[str], bag: DiagnosticBag) -> None:
    """E004: the declaration ended early; an unclosed bracket leads when it is the cause."""
    end_span = _after(file, chunk[-1])
    opened = unclosed(chunk)
    closer = CLOSERS[opened.type] if opened is not None else ""
    if opened is None or closer not in expected:
        hints = [f"'{opened.value}' opened at line {opened.line} is not closed"] if opened else []
        words = describe_expected(expected)
        bag.error("E004", f"unexpected end of declaration; expected {words}", end_span, *hints)
        return
    hints = [f"expected {describe_expected(expected)}"]
    guess = misplaced_closer(chunk)
    if guess is not None and guess[0].type == opened.type:  # the indentation tells better
        opened, outer = guess
        end_span = _after(file, chunk[chunk.index(outer) - 1])
        hints.insert(0, f"the '{outer.value}' at line {outer.line} is indented less than line "
                        f"{opened.line}, so it closes a bracket opened before")  # fmt: skip
    bag.error(
        "E004",
        f"'{opened.value}' opened at line {opened.line} is not closed; expected "
        f"{describe_expected({closer})}",
        end_span,
        *hints,
    )


def _after(file: str, tok: Tok) -> Span:
    """The column just past ``tok``: where a missing closing bracket would go."""
    span = token_span(file, tok)
    return Span(file, span.end_line, span.end_col, span.end_line, span.end_col + 1)


def _in_non_ascii_name(bag: DiagnosticBag, tok: Tok, chunk: list[Tok], bad: int) -> bool:
    """Whether ``tok`` is what a name with letters beyond ASCII left behind: a piece of it
    (`l` of `Télé`), or the first token after it (`{` after `日本`, read as a missing name)."""
    spans = [
        d.span
        for d in bag.items
        if d.message.startswith(NOT_A_NAME) and d.span is not None and d.span.line == tok.line
    ]
    if not spans:
        return False
    found = 0 < bad < len(chunk)  # (not for the end of the chunk)
    before = chunk[bad - 1] if found and chunk[bad - 1].line == tok.line else None
    return any(
        span.col <= tok.column < span.end_col
        or (tok.column >= span.end_col and (before is None or before.column < span.col))
        for span in spans
    )


def _right_after_a_stray_character(
    bag: DiagnosticBag, tok: Tok, chunk: list[Tok], bad: int
) -> bool:
    """Whether a stray character (E002, skipped by the lexer) stands between ``tok`` and the
    token before it on its line: `speed ^ 2` reads as `speed 2`, and "unexpected integer '2'"
    would be a second error for the one mistake.  (Its declaration is left out anyway.)"""
    if tok.type == "$END":
        return False
    before = chunk[bad - 1] if 0 < bad <= len(chunk) and chunk[bad - 1].line == tok.line else None
    start = before.end_column if before is not None else 1
    return any(
        d.code == STRAY_CHARACTER
        and d.span is not None
        and d.span.line == tok.line
        and start <= d.span.col < tok.column
        for d in bag.items
    )


def _unterminated_lines(bag: DiagnosticBag, tok: Tok | None, chunk: list[Tok]) -> bool:
    """Whether the syntax error follows from an unterminated string (reported as E003): the
    unexpected token is that string (a lone `"` read as ``""``), or, at the end of the
    declaration, one of its lines has one, which took its closing `}` into the string."""
    lines = {d.span.line: d.span.col for d in bag.items if d.message == UNTERMINATED and d.span}
    if not lines:
        return False
    if tok is not None:
        return lines.get(tok.line) == tok.column
    return any(chunk[0].line <= line <= chunk[-1].line for line in lines)


def _wrong_closers(before: list[Tok]) -> set[str]:
    """Closing brackets that cannot match the innermost open one in ``before`` (the tokens
    before the error).

    LALR merges states, so `f(1, 2 }` would otherwise list ']' among the expected tokens.
    """
    opened = unclosed(before)
    allowed = {CLOSERS[opened.type]} if opened is not None else set()
    return set(CLOSERS.values()) - allowed


def _keyword_hint(tok: Tok, expected: set[str]) -> list[str]:
    """Suggest a keyword when a misspelt one was read as a name."""
    if tok.type != "NAME":
        return []
    close = close_keyword(tok.value, [word for word, kind in KEYWORDS.items() if kind in expected])
    return [f"did you mean '{close}'?"] if close else []
