"""What a declaration with a syntax error would have provided, read from its tokens.

The parser drops a declaration that does not parse.  Its name is still in the file, so later
references to it would report false "unknown" errors and "never produced" or "no plan"
warnings: consequences of the syntax error, not causes.  The compiler keeps quiet about the
names recorded here (see :class:`om_dsl.compiler.symbols.Broken`).
"""

from __future__ import annotations

import itertools

from om_dsl.syntax import ast
from om_dsl.syntax.lexer import KEYWORDS, TOP_LEVEL, Tok, close_keyword

# A name, or a soft keyword that the parser made of one.
_NAME_TYPES = frozenset({"NAME", *KEYWORDS.values()})
_DECLARES_ONE = frozenset({"offer", "bundle", "cfs", "rfs", "resource", "system", "queue", "table"})


def broken_decl(tokens: list[Tok]) -> ast.BrokenDecl:
    """The names of the declaration that ``tokens`` (from its keyword on) would provide."""
    kind = declaration_keyword(tokens[0])
    name = _name(tokens[1]) if len(tokens) > 1 else None
    if kind == "enum":
        return ast.BrokenDecl(kind, _named(name, _inside_braces(tokens)))
    if kind in _DECLARES_ONE:  # and a product's families
        return ast.BrokenDecl(kind, _named(name, _after(tokens, "family")))
    # `decompose family F` and `plan family F` complete the members of F
    subject = _name(tokens[2]) if name == "family" and len(tokens) > 2 else name
    if kind == "decompose":
        return ast.BrokenDecl(kind, (), _named(subject, _after(tokens, "->")))
    if kind == "plan":
        return ast.BrokenDecl(kind, (), _named(subject, []))
    if kind == "depend":  # depend A.x after B.y: the names before a dot
        return ast.BrokenDecl(kind, (), _named(None, _before(tokens, "DOT")))
    return ast.BrokenDecl(kind)


def declaration_keyword(first: Tok) -> str | None:
    """The top-level keyword that ``first`` is, or is a close misspelling of (`ofer`)."""
    word = _name(first)
    if word is None:
        return None
    return word if word in TOP_LEVEL else close_keyword(word)


def _name(tok: Tok) -> str | None:
    return tok.value if tok.type in _NAME_TYPES else None


def _named(first: str | None, rest: list[str | None]) -> tuple[str, ...]:
    return tuple(n for n in [first, *rest] if n)


def _inside_braces(tokens: list[Tok]) -> list[str | None]:
    """The names between the first `{` and the next `}` (an enum's members)."""
    kinds = [t.type for t in tokens]
    if "LBRACE" not in kinds:
        return []
    start = kinds.index("LBRACE") + 1
    end = kinds.index("RBRACE", start) if "RBRACE" in kinds[start:] else len(tokens)
    return [_name(t) for t in tokens[start:end]]


def _after(tokens: list[Tok], marker: str) -> list[str | None]:
    """The names right after each ``marker`` (`family F`, `-> Target`)."""
    pairs = itertools.pairwise(tokens)
    return [_name(nxt) for tok, nxt in pairs if tok.value == marker and tok.type != "STRING"]


def _before(tokens: list[Tok], marker_type: str) -> list[str | None]:
    """The names right before each token of type ``marker_type``."""
    pairs = itertools.pairwise(tokens)
    return [_name(tok) for tok, nxt in pairs if nxt.type == marker_type]
