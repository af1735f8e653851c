"""Words for terminals, so that no raw Lark name (``__ANON_7``, ``LBRACE``) reaches a user."""

from __future__ import annotations

from om_dsl.syntax import numbers
from om_dsl.syntax.lexer import KEYWORDS, PUNCTUATION, TOP_LEVEL, Tok

_WORDS: dict[str, str] = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "an integer",
    "DECIMAL": "a decimal number",
    "DURATION": "a duration (like 5s)",
    "$END": "end of file",
}
_WORDS.update({kind: f"'{word}'" for word, kind in KEYWORDS.items()})
_WORDS.update({kind: f"'{text}'" for text, kind in PUNCTUATION.items()})

# Tokens that can start an expression: reported together as "an expression".
_EXPR_START = frozenset({"NAME", "INT", "STRING", "LPAR", "MINUS", "TRUE", "FALSE", "NULL"})
# Keywords that start a top-level declaration: reported together as "a declaration".
_DECL_START = frozenset(KEYWORDS[word] for word in TOP_LEVEL)
_OPERATORS = frozenset(
    {"PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "EQ", "NE", "LT", "LE", "GT", "GE", "AND", "OR"}
)


def word(kind: str) -> str:
    """A human description of one terminal name."""
    return _WORDS.get(kind, kind.lower())


def describe_expected(expected: set[str]) -> str:
    """Summarise an expected-terminal set as a short English list."""
    kinds = set(expected)
    parts: list[str] = []
    if len(kinds & _DECL_START) >= 8:
        kinds -= _DECL_START
        parts.append("a declaration (offer, cfs, decompose, plan, ...)")
    if kinds >= _EXPR_START:
        kinds -= _EXPR_START | {"DECIMAL", "LBRACKET", "NOT", "IF", "MAP"}
        parts.append("an expression")
    if len(_OPERATORS & kinds) >= 5:
        kinds -= _OPERATORS | {"IN", "NOT", "DOT", "LBRACKET"}  # `[`: an index, `xs[0]`
        parts.append("an operator")
    parts.extend(sorted(word(k) for k in kinds))
    if not parts:
        return "nothing more"
    if len(parts) > 8:
        parts = [*parts[:7], f"{len(parts) - 7} more"]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def describe_token(tok: Tok) -> str:
    """How a token the user wrote is shown: the kind and its text."""
    if tok.type == "$END":
        return "end of file"
    if tok.type in ("NAME", "INT", "DECIMAL", "DURATION"):
        return f"{_kind_word(tok.type)} '{tok.value}'"
    if tok.type == "STRING":
        return f'string "{tok.value}"'
    if tok.type == numbers.BAD:
        return f"number '{numbers.shorten(tok.value)}'"
    if tok.type in PUNCTUATION.values():
        return word(tok.type)
    return f"keyword '{tok.value}'"


def _kind_word(kind: str) -> str:
    """``duration`` for ``a duration (like 5s)``: the noun alone, as the token's text follows
    (it read "unexpected duration (like 5s) '2s'")."""
    return word(kind).split(" (", 1)[0].split(" ", 1)[1]
