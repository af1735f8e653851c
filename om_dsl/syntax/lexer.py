"""A hand-written regex lexer for the om language.

Lark's own lexer is correct but slow for 100k-line catalogs: one master regex with named
groups, read with ``finditer``, is several times faster.  It also lets us (a) keep going after a
bad character, (b) collect ``///`` doc comments, and (c) split the token stream into top-level
declarations so that the parser can recover after an error.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from om_dsl.errors import DiagnosticBag
from om_dsl.source import Span

# Keywords are soft: the parser adapter decides per state whether a NAME is a keyword.
KEYWORDS: dict[str, str] = {
    "catalog": "CATALOG",
    "version": "VERSION",
    "import": "IMPORT",
    "enum": "ENUM",
    "offer": "OFFER",
    "bundle": "BUNDLE",
    "cfs": "CFS",
    "rfs": "RFS",
    "resource": "RESOURCE",
    "order": "ORDER",
    "id": "ID",
    "scope": "SCOPE",
    "spec": "SPEC",
    "family": "FAMILY",
    "includes": "INCLUDES",
    "requires": "REQUIRES",
    "attribute": "ATTRIBUTE",
    "required": "REQUIRED",
    "in": "IN",
    "default": "DEFAULT",
    "unit": "UNIT",
    "description": "DESCRIPTION",
    "pattern": "PATTERN",
    "values": "VALUES",
    "merge": "MERGE",
    "alias": "ALIAS",
    "decompose": "DECOMPOSE",
    "as": "AS",
    "when": "WHEN",
    "after": "AFTER",
    "before": "BEFORE",
    "parent": "PARENT",
    "system": "SYSTEM",
    "url": "URL",
    "timeout": "TIMEOUT",
    "auth": "AUTH",
    "retry": "RETRY",
    "offline": "OFFLINE",
    "permanent": "PERMANENT",
    "env": "ENV",
    "bearer": "BEARER",
    "basic": "BASIC",
    "header": "HEADER",
    "none": "NONE",
    "fixed": "FIXED",
    "staggered": "STAGGERED",
    "exponential": "EXPONENTIAL",
    "max": "MAX",
    "cap": "CAP",
    "jitter": "JITTER",
    "queue": "QUEUE",
    "plan": "PLAN",
    "on": "ON",
    "compensation": "COMPENSATION",
    "auto": "AUTO",
    "manual": "MANUAL",
    "milestone": "MILESTONE",
    "wait": "WAIT",
    "callout": "CALLOUT",
    "expect": "EXPECT",
    "point_of_no_return": "PONR",
    "undo": "UNDO",
    "handler": "HANDLER",
    "async": "ASYNC",
    "event": "EVENT",
    "until": "UNTIL",
    "request": "REQUEST",
    "response": "RESPONSE",
    "record": "RECORD",
    "depend": "DEPEND",
    "within": "WITHIN",
    "if": "IF",
    "then": "THEN",
    "else": "ELSE",
    "or": "OR",
    "and": "AND",
    "not": "NOT",
    "true": "TRUE",
    "false": "FALSE",
    "null": "NULL",
    "map": "MAP",
    "table": "TABLE",
}

PUNCTUATION: dict[str, str] = {
    "->": "ARROW",
    "..": "DOTDOT",
    "==": "EQ",
    "!=": "NE",
    "<=": "LE",
    ">=": "GE",
    ".": "DOT",
    ",": "COMMA",
    ";": "SEMI",
    ":": "COLON",
    "<": "LT",
    ">": "GT",
    "=": "ASSIGN",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "SLASH",
    "%": "PERCENT",
    "(": "LPAR",
    ")": "RPAR",
    "{": "LBRACE",
    "}": "RBRACE",
    "[": "LBRACKET",
    "]": "RBRACKET",
}

# Keywords that begin a top-level declaration: where the parser restarts after an error.
TOP_LEVEL = frozenset(
    {
        "catalog",
        "import",
        "enum",
        "offer",
        "bundle",
        "cfs",
        "rfs",
        "resource",
        "order",
        "decompose",
        "system",
        "queue",
        "plan",
        "depend",
        "table",
    }
)


NOT_A_NAME = "letters beyond ASCII in the name"
"""E002's message for a name such as `Télé` (the parser keeps quiet about its pieces)."""


# `int?` (an optional type) and `a ? b : c` (a conditional) from C-like languages.
_QUESTION_HINT: Final = (
    "'?' means nothing here: an attribute is optional unless it is 'required', and a "
    "conditional value is written 'if CONDITION then A else B'"
)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


_FOREIGN_OPERATORS = {"&&": "and", "||": "or", "!": "not"}
# What a word processor, a chat app or a typeset document makes of `->`, `>=`, `-`, `*`, ...:
# read as the ASCII operator once reported, as `&&` is read as `and`.
_TYPESET_OPERATORS = {
    "\u2192": "->",  # rightwards arrow
    "\u21d2": "->",  # rightwards double arrow
    "\u2265": ">=",  # greater-than or equal to
    "\u2264": "<=",  # less-than or equal to
    "\u2260": "!=",  # not equal to
    "\u2212": "-",  # minus sign
    "\u00d7": "*",  # multiplication sign
}
_COMMENT_HINT = "comments start with //"


def _invisible_word(char: str) -> str:
    """``invisible character U+200B (ZERO WIDTH SPACE)``."""
    name = unicodedata.name(char, "")
    return f"invisible character U+{ord(char):04X}" + (f" ({name})" if name else "")


_SPELLED = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
        "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "å": "aa", "Å": "Aa",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
        "\u0131": "i",  # dotless i (Turkish)
    }
)  # fmt: skip
"""Letters written out as their languages do in ASCII (German `Größe` is `Groesse`, not
`Groe`), and those that Unicode does not decompose into a base letter and an accent."""


def ascii_spelling(word: str) -> str:
    """``word`` in ASCII letters: the letters of :data:`_SPELLED` written out, other accents
    dropped (`Télé` -> `Tele`), what is left beyond ASCII dropped too."""
    spelled = unicodedata.normalize("NFKD", word.translate(_SPELLED))
    return spelled.encode("ascii", "ignore").decode()


def _ascii_hints(word: str) -> tuple[str, ...]:
    """What to write instead of a name with letters beyond ASCII: spelt in ASCII where that
    leaves a name (`Télé` -> `Tele`, `Größe` -> `Groesse`), the text itself kept as a display
    name."""
    folded = ascii_spelling(word)
    rule = "names are ASCII letters, digits and '_'"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", folded):
        return (f"{rule}; a display name in quotes may hold any text",)
    return (f"{rule}: write '{folded}'; a display name in quotes may hold any text",)


UNTERMINATED = "unterminated string"
"""E003's message for a string not closed on its line (the parser knows its consequences)."""


def close_keyword(word: str, keywords: Iterable[str] = TOP_LEVEL) -> str | None:
    """The keyword that ``word`` is a close misspelling of (`ofer` -> `offer`), if any.
    Case does not count: keywords are lower case, and `CFS` or `Queue` mean `cfs`, `queue`."""
    close = difflib.get_close_matches(word.lower(), sorted(keywords), n=1, cutoff=0.75)
    return close[0] if close else None


# One match per token, with the blanks before it.  Alternatives are tried in order, so the
# commonest come first; only those that share a first character depend on their order (DOC
# before COMMENT before OP for "/", BIGNUM before DURATION before BADNUM ... for digits).
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # escapes read by re (mypyc refuses the code points)
_INVISIBLE_CLASS = "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
INVISIBLE = re.compile(_INVISIBLE_CLASS)
"""Characters an editor does not show (zero-width spaces and joiners, the soft hyphen,
direction marks, a byte order mark): pasted from a web page or a document into a name, they
make it another name that looks the same."""
_ALTERNATIVES = r"""
    (?P<NAME>[A-Za-z_][A-Za-z0-9_]*{invisible})
    |(?P<NL>\n)
    |(?P<DOC>///[^\n]*)
    |(?P<COMMENT>//[^\n]*)
    |(?P<OP>->|\.\.|==|!=|<=|>=|[.,;:<>=+\-*/%(){}\[\]])
    |(?P<STRING>"(?:[^"\\\n]|\\.)*")
    |(?P<BADSTRING>"(?:[^"\\\n]|\\.)*)
    |(?P<BIGNUM>0*[1-9][0-9]{16,}(?:ms|s|m|h|d)?(?![A-Za-z0-9_]|\.[0-9]))
    |(?P<DURATION>[0-9]+(?:ms|s|m|h|d)(?![A-Za-z0-9_]))
    |(?P<BADNUM>[0-9]+(?:\.[0-9]+)?[A-Za-z_][A-Za-z0-9_]*)
    |(?P<DECIMAL>[0-9]+\.[0-9]+)
    |(?P<INT>[0-9]+)
    |(?P<FOREIGN>&&|\|\||!(?!=)|'[^'\n]*'|\#[^\n]*|[\u201c\u201d][^\u201c\u201d"\n]*[\u201c\u201d]|[\u2018\u2019][^\u2018\u2019'\n]*[\u2018\u2019]|[\u2192\u21d2\u2265\u2264\u2260\u2212\u00d7])
    |(?P<ERROR>.)
    |(?P<EOF>\Z)
    """
_BLANKS = r"[ \t\r\f]"
_INVISIBLE_IN_NAME = f"(?:{_INVISIBLE_CLASS}+[A-Za-z0-9_]+)*"
_TOKEN_PATTERN = f"{_BLANKS}*(?:{_ALTERNATIVES})"
TOKEN_RE = re.compile(_TOKEN_PATTERN.replace("{invisible}", ""), re.VERBOSE)
_TOKEN_RE_INVISIBLE = re.compile(
    _TOKEN_PATTERN.replace("{invisible}", _INVISIBLE_IN_NAME), re.VERBOSE
)
"""TOKEN_RE for a text that holds invisible characters: a name takes those inside it, so that
the lexer reports them once, as part of the name, and the name reads as it looks."""

# The lexer's scan: TOKEN_RE with two groups, the blanks and the piece after them (its
# alternatives' own groups dropped), so that ``findall`` returns (blanks, piece) pairs of plain
# strings: no Match object and no method call per token, a third of the lexer's time when
# compiled.  A piece's first character tells its alternative, apart from a few rare cases
# that TOKEN_RE decides.
_SCAN_PATTERN = f"({_BLANKS}*)(" + re.sub(r"\(\?P<\w+>", "(?:", _ALTERNATIVES) + ")"
_SCAN_RE = re.compile(_SCAN_PATTERN.replace("{invisible}", ""), re.VERBOSE)
_SCAN_RE_INVISIBLE = re.compile(
    _SCAN_PATTERN.replace("{invisible}", _INVISIBLE_IN_NAME), re.VERBOSE
)
assert _SCAN_RE.groups == 2 and _SCAN_RE_INVISIBLE.groups == 2

# TOKEN_RE's alternatives by group number (every group is one alternative), the kind each
# stands for, and whether it makes no token (doc comments, comments, the end of the text).
_KIND_OF: tuple[str, ...] = ("", *sorted(TOKEN_RE.groupindex, key=TOKEN_RE.groupindex.__getitem__))
assert len(_KIND_OF) == TOKEN_RE.groups + 1
_NO_TOKEN = tuple(kind in ("DOC", "COMMENT", "EOF") for kind in _KIND_OF)
# Final: compiled (om_dsl.accel), a plain module global is a dict look-up on every use, and
# the loop compares with these for every piece (a tenth of the lexer's instructions).
_NAME: Final = TOKEN_RE.groupindex["NAME"]
_NL: Final = TOKEN_RE.groupindex["NL"]
_OP: Final = TOKEN_RE.groupindex["OP"]
_STRING: Final = TOKEN_RE.groupindex["STRING"]
_DOC: Final = TOKEN_RE.groupindex["DOC"]
_COMMENT: Final = TOKEN_RE.groupindex["COMMENT"]
_EOF: Final = TOKEN_RE.groupindex["EOF"]
_BADSTRING: Final = TOKEN_RE.groupindex["BADSTRING"]
_BIGNUM: Final = TOKEN_RE.groupindex["BIGNUM"]
_INT: Final = TOKEN_RE.groupindex["INT"]
_EXACT: Final = 0
"""Classes of a piece by its first character, besides the alternatives' own numbers: ask
TOKEN_RE, and the first characters that several alternatives share."""
_SLASH: Final = -2
_QUOTE: Final = -3
_DIGIT: Final = -4
_FIRST: dict[str, int] = {
    **{chr(code): _EXACT for code in range(128)},  # every ASCII character: no .get() per piece
    "\n": _NL,
    "/": _SLASH,
    '"': _QUOTE,
    **dict.fromkeys("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_", _NAME),
    **dict.fromkeys(".,;:<>=+-*%(){}[]", _OP),
    **dict.fromkeys("0123456789", _DIGIT),
}
"""Any other ASCII character (``!``, ``&``, ``|``, ``'``, ``#``, ...) is ``_EXACT``, and so is a
character beyond ASCII (not in the table)."""


def _alternative(piece: str, first: int) -> int:
    """The alternative of a piece whose first character several alternatives share, when the
    piece alone tells it (else ``_EXACT``): the common cases, so TOKEN_RE is rarely asked."""
    if first == _SLASH:
        return _DOC if piece.startswith("///") else _COMMENT if piece.startswith("//") else _OP
    if first == _QUOTE:
        if len(piece) < 2 or piece[-1] != '"':
            return _BADSTRING
        # a closing quote after a backslash may be escaped, or close "...\\": TOKEN_RE knows
        return _STRING if piece[-2] != "\\" else _EXACT
    if piece.isdigit():  # digits only (ASCII: the alternatives match no other digits)
        return _BIGNUM if len(piece.lstrip("0")) > 16 else _INT
    return _EXACT  # a decimal, a duration, a bad number: their lookaheads see the next piece


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
"""Control characters (tab and line feed aside), which a string may hold only as escapes,
as in JSON (a line feed cannot be in a string at all)."""
_DROP_CONTROLS = str.maketrans(dict.fromkeys([*range(0x09), *range(0x0B, 0x20), 0x7F]))
"""The characters of ``_CONTROL``, deleted by ``str.translate``."""


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character of ``_CONTROL``.

    For ASCII text (nearly every catalog), ``translate`` deleting them runs through C's ASCII
    fast path, ten times faster than the regex's character-by-character search (30 ms for a
    100k-line catalog); other text is searched.
    """
    if text.isascii():
        return len(text.translate(_DROP_CONTROLS)) != len(text)
    return _CONTROL.search(text) is not None


_DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

# The unit a bad number reads as ("1.5h", "5min", "2days"): where a duration is wanted, it
# stands in for one (see om_dsl.syntax.numbers).
_UNIT_WORDS = {
    word: unit
    for unit, words in {
        "ms": ("ms", "msec", "msecs"),
        "s": ("s", "sec", "secs", "second", "seconds"),
        "m": ("m", "min", "mins", "minute", "minutes"),
        "h": ("h", "hr", "hrs", "hour", "hours"),
        "d": ("d", "day", "days"),
    }.items()
    for word in words
}


def unit_of(number: str) -> str | None:
    """The duration unit that the letters after a number's digits spell, if any."""
    return _UNIT_WORDS.get(number.lstrip("0123456789.").lower())


def duration_ms(text: str) -> int:
    """Milliseconds of a DURATION token such as ``500ms`` or ``2d``."""
    unit = "ms" if text.endswith("ms") else text[-1]
    return int(text[: -len(unit)]) * _DURATION_UNITS_MS[unit]


NATIVE = not __file__.endswith(".py")
"""Whether this module runs compiled (:mod:`om_dsl.accel`): tokens are made differently."""


class Tok:
    """One token: its kind (a terminal name of om.lark), its text and where it was written.

    Lighter than ``lark.Tok`` (a ``str`` subclass with eight attributes, four times slower to
    create, and tokens are a third of everything a compile allocates).  Toks never span
    lines (strings cannot hold a newline), so ``end_line`` is ``line``.  ``type`` is mutable:
    the parser turns a ``NAME`` into a soft keyword and back.
    """

    __slots__ = ("column", "end_column", "line", "type", "value")

    def __init__(self, type: str, value: str, line: int, column: int, end_column: int) -> None:
        self.type = type
        self.value = value
        self.line = line
        self.column = column
        self.end_column = end_column

    @property
    def end_line(self) -> int:
        return self.line

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Tok({self.type!r}, {self.value!r})"


def end_token(last: Tok) -> Tok:
    """The ``$END`` token that closes a chunk, placed at its last token."""
    return Tok("$END", "", last.line, last.column, last.end_column)


def token_span(file: str, tok: Tok) -> Span:
    return Span(file, tok.line, tok.column, tok.line, tok.end_column)


@dataclass(slots=True)
class LexResult:
    """Tokens of one file, split into top-level chunks, plus the doc comments by line.

    ``bad_numbers``: the ``BADNUM`` tokens, with their text as written; the parser fits them
    where a number goes and reports them (see :mod:`om_dsl.syntax.numbers`).
    """

    chunks: list[list[Tok]] = field(default_factory=list)
    docs: dict[int, str] = field(default_factory=dict)
    bad_numbers: list[tuple[Tok, str]] = field(default_factory=list)


class Lexer:
    """Turns one file into chunks of tokens, reporting bad characters as diagnostics."""

    def __init__(self, file: str, text: str, diagnostics: DiagnosticBag) -> None:
        self.file = file
        self.text = text
        self.diagnostics = diagnostics
        self._bad_numbers = False
        # One scan of the whole text (in C) spares every string its own search.
        self._controls = has_controls(text)
        self._invisible = not text.isascii() and INVISIBLE.search(text) is not None

    def run(self) -> LexResult:
        result = LexResult()
        tokens, starts = self._tokens(result.docs)
        result.chunks = split_chunks(tokens, starts)
        if self._bad_numbers:
            result.bad_numbers = [(t, t.value) for t in tokens if t.type == "BADNUM"]
        return result

    def _tokens(  # noqa: C901, PLR0912, PLR0915 - the hot loop is one function on purpose
        self, docs: dict[int, str]
    ) -> tuple[list[Tok], list[tuple[int, int, int]]]:
        """The lexer's hot loop: kept in one function on purpose (local lookups are fast).

        Besides the tokens it returns the places where a declaration may start, for
        :func:`split_chunks`: (index, brace balance before it, column) of every top-level
        keyword that is the first token of its line.
        """
        out: list[Tok] = []
        append = out.append
        starts: list[tuple[int, int, int]] = []
        line = 1
        line_start = 0
        first_on_line = True
        balance = 0
        pending_doc: list[str] = []
        doc_line = 0
        punct = PUNCTUATION
        top_level = TOP_LEVEL
        # As Python, a token is made without calling Tok.__init__: Python 3.11 runs a class's
        # Python __init__ through C (a new frame, not an inlined call); five slot stores here
        # are a third cheaper, and there is a token for every five characters of source.
        # Compiled (om_dsl.accel), Tok is a native class: its constructor is a C call, and
        # object.__new__ is refused.
        new, tok_class, native = object.__new__, Tok, NATIVE
        kinds = _KIND_OF
        no_token = _NO_TOKEN
        first_of = _FIRST
        invisible = self._invisible
        pairs: list[tuple[str, str]] = (_SCAN_RE_INVISIBLE if invisible else _SCAN_RE).findall(
            self.text
        )
        while pairs and not pairs[-1][1]:  # the end of the text (it can match twice): no token
            pairs.pop()
        offset = 0  # where the last piece ended
        for blanks, piece in pairs:
            start = offset + len(blanks)
            offset = start + len(piece)
            try:
                index = first_of[piece[0]]
            except KeyError:  # a character beyond ASCII
                index = _EXACT
            if index < 0:  # the common cases of _alternative inline: no call as Python
                if index == _QUOTE and piece[-1] == '"' and len(piece) > 1 and piece[-2] != "\\":
                    index = _STRING
                elif index == _DIGIT and len(piece) < 17 and piece.isdigit():
                    index = _INT
                else:
                    index = _alternative(piece, index)
            if index == _EXACT:  # rare: TOKEN_RE's match at the piece says which alternative
                index = self._exact(start)
            if index == _NL:
                line += 1
                line_start = offset
                first_on_line = True
                continue
            if no_token[index]:
                if index == _DOC:
                    if pending_doc and doc_line != line - 1:
                        pending_doc = []
                    pending_doc.append(piece[3:].strip())
                    doc_line = line
                continue  # a comment, or the end
            value = piece
            end_col = offset - line_start + 1
            col = end_col - len(value)
            if pending_doc:
                if doc_line == line - 1:
                    docs[line] = "\n".join(pending_doc)
                pending_doc = []
            if index == _NAME:
                kind = "NAME"
                if invisible and not value.isascii():
                    value = self._visible_name(value, line, col)
            elif index == _OP:
                kind = punct[value]
                if kind == "LBRACE":
                    balance += 1
                elif kind == "RBRACE":
                    balance -= 1
            elif index == _STRING:
                kind = "STRING"
                value = self._string(value, line, col)
            else:
                kind = kinds[index]
                if kind not in ("INT", "DECIMAL", "DURATION"):
                    kind, value = self._bad(kind, value, line, col, start)
                    if kind == "":
                        continue
            if first_on_line:
                first_on_line = False
                if kind == "NAME" and value in top_level:
                    starts.append((len(out), balance, col))
            if native:
                append(Tok(kind, value, line, col, end_col))
            else:
                tok = new(tok_class)
                tok.type = kind
                tok.value = value
                tok.line = line
                tok.column = col
                tok.end_column = end_col
                append(tok)
        return out, starts

    def _exact(self, start: int) -> int:
        """The alternative TOKEN_RE matches at ``start`` (where a piece starts: no blanks)."""
        found = (_TOKEN_RE_INVISIBLE if self._invisible else TOKEN_RE).match(self.text, start)
        assert found is not None  # ERROR and EOF match anywhere
        return found.lastindex or _EOF

    def _string(self, raw: str, line: int, col: int) -> str:
        if self._controls and (found := _CONTROL.search(raw)) is not None:
            code = f"\\u{ord(found.group()):04x}"
            span = Span(self.file, line, col + found.start(), line, col + found.start() + 1)
            self.diagnostics.error(
                "E003",
                f"a control character (U+{ord(found.group()):04X}) in a string",
                span,
                f"write it as an escape ({code}) if it is meant: raw, it is invisible in an editor",
            )
        if "\\" not in raw:
            return raw[1:-1]
        try:
            value: str = json.loads(raw)
        except ValueError:
            span = Span(self.file, line, col, line, col + len(raw))
            self.diagnostics.error(
                "E003",
                "invalid escape sequence in string",
                span,
                'use \\" \\\\ \\n \\t or \\uXXXX',
            )
            return raw[1:-1]
        if _SURROGATE.search(value):  # "\\ud800" alone: no character, and not encodable as UTF-8
            span = Span(self.file, line, col, line, col + len(raw))
            self.diagnostics.error(
                "E003",
                "invalid escape sequence in string: a lone surrogate (\\uD800-\\uDFFF)",
                span,
                "write the character itself, or both halves of a surrogate pair",
            )
            return _SURROGATE.sub("\ufffd", value)
        return value

    def _visible_name(self, written: str, line: int, col: int) -> str:
        """E002 once for a name with invisible characters in it, which then reads as it looks
        (`Ho<U+200B>me` is `Home`): no second error for the pieces, and no unknown name where
        the name is used without them."""
        visible = INVISIBLE.sub("", written)
        self.diagnostics.error(
            "E002",
            f"{_invisible_word(next(c for c in written if INVISIBLE.match(c)))} in the name "
            f"'{visible}'",
            Span(self.file, line, col, line, col + len(written)),
            f"delete it (editors do not show it): the name reads as {visible}",
        )
        return visible

    def _foreign(self, value: str, span: Span) -> tuple[str, str]:
        """Other languages' ``&&``, ``||``, ``!``, ``'text'`` and ``# comment``, and typeset
        ``“text”``, ``→``, ``≥``, ...: reported, then read as what they mean here, so
        that the line parses on and nothing else is blamed (``&&`` used to be two E002 and an
        E001 for the name after it)."""
        if value[0] == "#":  # the error is the '#', not the comment after it
            at = Span(span.file, span.line, span.col, span.line, span.col + 1)
            self.diagnostics.error("E002", "unexpected character '#'", at, _COMMENT_HINT)
            return "", ""
        if value[0] in "'\u201c\u201d\u2018\u2019":
            what = "single quotes" if value[0] == "'" else "curly quotes"
            hint = f"write {json.dumps(value[1:-1], ensure_ascii=False)}"
            if what == "curly quotes":
                hint += " with straight quotes (editors and chat apps curl them)"
            self.diagnostics.error("E003", f"a string in {what}", span, hint)
            return "STRING", value[1:-1]
        typeset = _TYPESET_OPERATORS.get(value)
        if typeset is not None:
            self.diagnostics.error("E002", f"unexpected '{value}'", span, f"write '{typeset}'")
            return PUNCTUATION[typeset], typeset
        word = _FOREIGN_OPERATORS[value]
        self.diagnostics.error("E002", f"unexpected '{value}'", span, f"write '{word}'")
        return "NAME", word

    def _bad(self, kind: str | None, value: str, line: int, col: int, at: int) -> tuple[str, str]:
        span = Span(self.file, line, col, line, col + len(value))
        if kind == "BADSTRING":
            self.diagnostics.error(
                "E003", UNTERMINATED, span, 'close the string with " on the same line'
            )
            return "STRING", value[1:]
        if kind in ("BADNUM", "BIGNUM"):  # BIGNUM: 17+ digits, above 2^53 (and int() refuses
            self._bad_numbers = True  # over 4300 digits); the parser reports both
            return "BADNUM", value
        if value.isalpha():  # a letter beyond ASCII: one error for the word it is part of
            self._non_ascii_word(line, col, at)
            return "", ""
        if kind == "FOREIGN":
            return self._foreign(value, span)
        if INVISIBLE.fullmatch(value):
            message = f"unexpected {_invisible_word(value)}"
            self.diagnostics.error("E002", message, span, "delete it: editors do not show it")
            return "", ""
        shown = f"'{value}'" if value.isprintable() else f"U+{ord(value):04X}"
        hints = (_QUESTION_HINT,) if value == "?" else ()
        self.diagnostics.error("E002", f"unexpected character {shown}", span, *hints)
        return "", ""

    def _non_ascii_word(self, line: int, col: int, at: int) -> None:
        """E002 once for a name with letters beyond ASCII (`Télé`), spanning the whole word.
        Each such letter used to be an error, and the ASCII pieces between them unexpected
        names (E001: the parser leaves out those inside this span)."""
        text = self.text
        start = at
        while start > 0 and _word_char(text[start - 1]):
            start -= 1
        if start < at and not text[start:at].isascii():
            return  # an earlier letter of this word reported it
        end = at + 1
        while end < len(text) and _word_char(text[end]):
            end += 1
        word = text[start:end]
        first = col - (at - start)
        self.diagnostics.error(
            "E002",
            f"{NOT_A_NAME} '{word}'",
            Span(self.file, line, first, line, first + len(word)),
            *_ascii_hints(word),
        )


def split_chunks(
    tokens: list[Tok], starts: list[tuple[int, int, int]] | None = None
) -> list[list[Tok]]:
    """Split at top-level keywords so each declaration parses on its own.

    A keyword starts a new chunk when it is the first token on its line and either the braces
    are balanced or it sits in column 1 (which recovers from a missing ``}``).  ``starts``
    lists the candidates (index, brace balance before the token, column); the lexer collects
    them while lexing, so that this needs no second pass over every token.
    """
    if starts is None:
        starts = _candidates(tokens)
    bounds = [0]
    base = 0  # the brace balance where the current chunk starts
    for index, balance, column in starts:
        at_top = balance - base <= 0 or column == 1
        if at_top and index > bounds[-1] and _starts_decl(tokens, index):
            bounds.append(index)
            base = balance
    bounds.append(len(tokens))
    return [tokens[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _candidates(tokens: list[Tok]) -> list[tuple[int, int, int]]:
    """The ``starts`` of :func:`split_chunks`, for tokens that did not come from the lexer."""
    out: list[tuple[int, int, int]] = []
    balance = 0
    last_line = 0
    for i, tok in enumerate(tokens):
        if tok.type == "NAME" and tok.line != last_line and tok.value in TOP_LEVEL:
            out.append((i, balance, tok.column))
        if tok.type == "LBRACE":
            balance += 1
        elif tok.type == "RBRACE":
            balance -= 1
        last_line = tok.line
    return out


_GOES_ON: Final = frozenset({"and", "or", "in", "not", "then", "else"})
"""The words that follow an operand in an expression: `table in [...]` or `bundle and ...` first
on a line goes on with a `when` (`table`, `bundle`: an attribute, read bare)."""


def _starts_decl(tokens: list[Tok], i: int) -> bool:
    """`order` is also an expression root and a scope; it only starts a declaration before
    `{`, and not after `scope` (`cfs X scope` / `order {` on the next line).  `table` is a
    newer keyword that catalogs may use as a name (`table = ...` in a mapping): it starts a
    declaration only before the table's name.  `bundle` is an expression root in rules too,
    and a part's own attribute may be named so: `bundle.term`, `bundle != "x"` or
    `bundle = ...` on a line of its own (a `when` continued, a mapping) is no declaration,
    which names the bundle next (or, left out, gives its title or `{`)."""
    word = tokens[i].value
    if word not in ("table", "bundle"):
        if word != "order":
            return True
        after_scope = i > 0 and tokens[i - 1].value == "scope"
        return not after_scope and i + 1 < len(tokens) and tokens[i + 1].type == "LBRACE"
    if i + 1 >= len(tokens):
        return word == "bundle"
    after = tokens[i + 1]
    if after.type == "NAME":
        return after.value not in _GOES_ON
    return word == "bundle" and after.type in ("STRING", "LBRACE")
