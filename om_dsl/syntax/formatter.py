"""`om fmt`: one layout for every catalog, so that a diff shows what changed, not whitespace.

The layout is the one of the examples and of docs/language.md ("Layout"): two spaces per
block, four more for the continuation lines of a statement (a callout's ``request`` under its
head), and a rule's mapping block indented under its target (``-> Line {``).  Inside a line,
one space between tokens, none inside brackets or around ``.`` and ``..``, none before ``,``
``;`` ``:``, and two before a trailing comment.

It works on one file's tokens and comments, not on the AST, as ``gofmt`` and ``terraform fmt``
do: every comment stays where it was written, the line breaks stay the author's (a long line
is not wrapped), runs of blank lines become one.  Only a file that parses is formatted: the
parse settles each soft keyword, which tells ``default -1`` (a sign) from ``a - 1`` and a plan
item's head from its continuation lines.  Before anything is written, the output is lexed
again and must hold the same tokens and comments as the input (:func:`same_tokens`); a
difference is a bug in this module, reported as such, never a changed catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from om_dsl.errors import DiagnosticBag
from om_dsl.source import BOM, as_read
from om_dsl.syntax.lexer import PUNCTUATION, TOKEN_RE
from om_dsl.syntax.parser import parse_tokens

INDENT = 2
CONTINUATION = 4
"""A statement's second and later lines sit this much deeper than its first."""
GROUP = 4
"""The lines inside ``( )`` and ``[ ]`` split over several lines."""
ARROW_HANG = 3
"""A block opened on a ``->`` line is indented under the target's name: ``-> Line {``."""
COMMENT_GAP = "  "

COMMENTS = frozenset({"COMMENT", "DOC"})
OPENERS = {"LBRACE": "RBRACE", "LPAR": "RPAR", "LBRACKET": "RBRACKET"}
CLOSERS = frozenset(OPENERS.values())

# The first token of each statement, by what the block holds; in any other block (an enum,
# brackets) every line starts a statement.
DECLARATIONS = frozenset(
    {"CATALOG", "IMPORT", "ENUM", "OFFER", "BUNDLE", "CFS", "RFS", "RESOURCE", "ORDER"}
    | {"DECOMPOSE", "SYSTEM", "QUEUE", "PLAN", "DEPEND", "TABLE"}
)
STATEMENT_HEADS: dict[str, frozenset[str]] = {
    "top": DECLARATIONS,
    "members": frozenset({"ATTRIBUTE", "SPEC", "FAMILY", "INCLUDES", "REQUIRES"}),
    "rules": frozenset({"ARROW"}),
    "system": frozenset({"URL", "TIMEOUT", "AUTH", "RETRY", "OFFLINE", "PERMANENT"}),
    "plan": frozenset({"COMPENSATION", "AUTO", "MANUAL", "MILESTONE", "WAIT", "CALLOUT", "RECORD"}),
}
_BLOCK_OF_HEAD = {
    "ENUM": "enum",
    "TABLE": "cases",
    **dict.fromkeys(("OFFER", "BUNDLE", "CFS", "RFS", "RESOURCE", "ORDER"), "members"),
    "PLAN": "plan",
    "SYSTEM": "system",
    "ARROW": "mappings",
}
_VALUE_ENDS = frozenset(
    {"NAME", "INT", "DECIMAL", "STRING", "DURATION", "TRUE", "FALSE", "NULL"}
    | {"RPAR", "RBRACKET", "RBRACE"}  # `)`, `]`, and `}` closing a `map` expression
)
"""Tokens that end an operand: a ``-`` after one subtracts, anywhere else it is a sign."""
_QUALIFIED_KEY = ["NAME", "DOT", "NAME", "COLON"]
_NO_SPACE_BEFORE = frozenset({"COMMA", "SEMI", "COLON", "RPAR", "RBRACKET", "DOT", "DOTDOT"})
_NO_SPACE_AFTER = frozenset({"LPAR", "LBRACKET", "DOT", "DOTDOT"})


class FormatterBug(Exception):
    """The formatted text would not hold the input's tokens: nothing is written."""


@dataclass(slots=True)
class Piece:
    """A token or a comment as written, with the kind the parse gave it."""

    kind: str
    text: str
    unary: bool = False
    """A ``-`` that is a sign (``-1``, ``default -1``), not a subtraction."""


Line = list[Piece]


def format_text(file: str, text: str, diagnostics: DiagnosticBag) -> str | None:
    """``text`` laid out, or None when it has syntax errors (they go to ``diagnostics``)."""
    bom = BOM if text.startswith(BOM) else ""
    body = as_read(text)
    bag = DiagnosticBag()
    _, chunks = parse_tokens(file, body, bag)
    diagnostics.extend(bag.items)
    if bag.has_errors:
        return None
    kinds = {(tok.line, tok.column): tok.type for chunk in chunks for tok in chunk}
    first_end = body.find("\n")
    newline = "\r\n" if first_end > 0 and body[first_end - 1] == "\r" else "\n"
    lines = scan(body, kinds)
    laid = Layout(lines).render()
    result = newline.join(laid) + newline if laid else ""
    written = [piece.text for line in lines for piece in line]  # the input, scanned once
    if written != list(_token_texts(result)):
        raise FormatterBug(f"{file}: formatting would change the tokens; left as it is")
    return bom + result


def scan(text: str, kinds: dict[tuple[int, int], str]) -> list[Line]:
    """The pieces of each line (an empty list for a blank line)."""
    lines: list[Line] = [[]]
    line, line_start = 1, 0
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup or "EOF"
        if kind == "NL":
            lines.append([])
            line, line_start = line + 1, m.end()
            continue
        if kind == "EOF":
            break
        raw, start = m.group(kind), m.start(kind)
        column = start - line_start + 1
        if kind in COMMENTS:
            raw = raw.rstrip()
        elif kind == "OP":
            kind = PUNCTUATION[raw]
        else:
            kind = kinds.get((line, column), kind)
        lines[-1].append(Piece(kind, raw))
    return lines


def same_tokens(before: str, after: str) -> bool:
    """Both texts hold the same tokens and comments, in the same order (whitespace aside):
    the invariant :func:`format_text` checks (on the pieces it scanned, not a second scan),
    for tests and tools that change layout."""
    return list(_token_texts(before)) == list(_token_texts(after))


def _token_texts(text: str) -> Iterator[str]:
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind not in ("NL", "EOF") and kind is not None:
            yield m.group(kind).rstrip()


@dataclass(slots=True)
class Block:
    """An open bracket: what its lines hold and how deep they sit."""

    kind: str
    content: int = 0
    closer: int = 0
    head: str = ""
    """The first token of the statement being written in the block."""
    arrow: bool = False
    """That statement has a ``->`` (``decompose A -> B {`` opens a mapping block)."""
    maps_open: int = 0
    """How many ``map`` expressions wait for their ``{`` (one that names a table has none)."""


@dataclass(slots=True)
class Layout:
    lines: list[Line]
    stack: list[Block] = field(default_factory=lambda: [Block("top")])
    previous: Piece | None = None

    def render(self) -> list[str]:
        """The output lines: code lines indented, comments as deep as the code they precede,
        one blank line where the input had one or more (none after ``{`` or before ``}``)."""
        rows: list[Row] = []
        blank = False
        for line in self.lines:
            if not line:
                blank = bool(rows)
                continue
            code = [p for p in line if p.kind not in COMMENTS]
            rows.append(Row(line, code, blank, *self._indent(code)))
            blank = False
        return _text(_place_comments(rows))

    def _indent(self, code: Line) -> tuple[int | None, int]:
        """The indent of a line with these code pieces (None for a line of comments only) and
        the indent of a comment just above it; then follow its brackets."""
        block = self.stack[-1]
        if not code:
            return None, 0
        if code[0].kind in CLOSERS:
            indent, above = block.closer, block.content  # a comment above `}` is inside
        elif _starts_statement(block, code):
            indent = above = block.content
            block.head, block.arrow, block.maps_open = code[0].kind, False, 0
        else:
            indent = above = block.content + CONTINUATION
        self._track(code, indent)
        return indent, above

    def _track(self, code: Line, indent: int) -> None:
        opened: list[tuple[Block, str]] = []
        for piece in code:
            top = self.stack[-1]
            kind = piece.kind
            if kind == "MINUS":
                piece.unary = self.previous is None or self.previous.kind not in _VALUE_ENDS
            elif kind == "ARROW":
                top.arrow = True
            elif kind == "MAP":
                top.maps_open += 1
            elif kind == "NAME" and top.maps_open and _ends_value(self.previous):
                top.maps_open -= 1  # `map speed Profile`: a name right after the subject
            elif kind in OPENERS:
                block = Block(_block_kind(top, self.previous, kind))
                self.stack.append(block)
                opened.append((block, kind))
            elif kind in CLOSERS and len(self.stack) > 1:
                closed = self.stack.pop()
                if opened and opened[-1][0] is closed:  # brackets nest: only the last can close
                    opened.pop()
            self.previous = piece
        base = indent + (ARROW_HANG if code[0].kind == "ARROW" else 0)
        for block, kind in opened:  # those still open at the end of the line
            block.closer = base
            block.content = base + (INDENT if kind == "LBRACE" else GROUP)
            base = block.content


def _starts_statement(block: Block, code: Line) -> bool:
    heads = STATEMENT_HEADS.get(block.kind)
    first = code[0].kind
    if heads is not None:
        return first in heads
    if block.kind == "mappings":
        return first == "NAME" and len(code) > 1 and code[1].kind == "ASSIGN"
    if block.kind in ("object", "cases"):
        if block.kind == "cases" and [p.kind for p in code[:4]] == _QUALIFIED_KEY:
            return True  # `Technology.FTTH: ...`
        return any(p.kind == "COLON" for p in code[:3]) or first == "LBRACKET"
    return True  # enum members, bracketed lists and arguments


def _ends_value(piece: Piece | None) -> bool:
    """Whether ``piece`` ends an operand: a name right after one is the table of a ``map``
    (the only place where two operands meet; a new statement resets the count first)."""
    return piece is not None and piece.kind in _VALUE_ENDS


def _block_kind(top: Block, previous: Piece | None, opener: str) -> str:
    """What the block that ``opener`` starts holds, from the statement around it."""
    if opener != "LBRACE":
        return "group"
    before = previous.kind if previous is not None else ""
    if top.maps_open:
        top.maps_open -= 1
        return "cases"
    if before == "REQUEST" or (before == "COLON" and top.kind == "object"):
        return "object"
    if before == "RESPONSE" or top.kind == "rules":
        return "mappings"
    if top.head == "DECOMPOSE":
        return "mappings" if top.arrow else "rules"
    return _BLOCK_OF_HEAD.get(top.head, "other")


@dataclass(slots=True)
class Row:
    """A line that is not blank, and where it goes."""

    pieces: Line
    code: Line
    """``pieces`` without comments."""
    blank_before: bool
    indent: int | None
    above: int


def _place_comments(rows: list[Row]) -> list[Row]:
    """A line of comments only takes the indent of the code line after it (inside the block
    when that line closes one; at the left margin at the end of the file)."""
    following = 0
    for row in reversed(rows):
        if row.indent is None:
            row.indent = following
        else:
            following = row.above
    return rows


def _text(rows: list[Row]) -> list[str]:
    out: list[tuple[str, str]] = []  # (indent and code, trailing comment)
    for n, row in enumerate(rows):
        before = rows[n - 1].code if n else []
        opens_block = bool(before) and before[-1].kind in OPENERS
        code = row.code
        closes_block = bool(code) and code[0].kind in CLOSERS
        # A `///` followed by a blank line documents nothing; without the blank line it would
        # document the code below it (the IR would change), so that blank line always stays.
        detaches_doc = n > 0 and rows[n - 1].pieces[-1].kind == "DOC"
        if row.blank_before and (detaches_doc or not (opens_block or closes_block)):
            out.append(("", ""))
        comment = row.pieces[-1].text if code and row.pieces[-1].kind in COMMENTS else ""
        pieces = row.pieces[:-1] if comment else row.pieces
        out.append((" " * (row.indent or 0) + _join(pieces), comment))
    return _align_comments(out)


def _align_comments(lines: list[tuple[str, str]]) -> list[str]:
    """Trailing comments of consecutive lines start in one column, as ``gofmt`` aligns them:
    two spaces after the longest line of the run."""
    out: list[str] = []
    n = 0
    while n < len(lines):
        end = n
        while end < len(lines) and lines[end][1] and lines[end][0].strip():
            end += 1
        if end == n:  # not a line with code and a trailing comment
            out.append(lines[n][0])
            n += 1
            continue
        column = max(len(code) for code, _ in lines[n:end]) + len(COMMENT_GAP)
        out += [code.ljust(column) + comment for code, comment in lines[n:end]]
        n = end
    return out


def _join(line: Line) -> str:
    parts = [line[0].text]
    for n in range(1, len(line)):
        parts.append(_gap(_before_names(line, n - 1), line[n - 1], line[n]))
        parts.append(line[n].text)
    return "".join(parts)


def _before_names(line: Line, n: int) -> Piece | None:
    """The piece before ``line[n]``, or before the whole ``A or B`` that a name ``line[n]``
    ends: what tells the cardinality of ``includes A or B [1]`` from an index ``a or xs[0]``."""
    while n > 1 and line[n].kind == "NAME" and line[n - 1].kind == "OR":
        if line[n - 2].kind != "NAME":
            break
        n -= 2
    return line[n - 1] if n > 0 else None


def _gap(before: Piece | None, prev: Piece, cur: Piece) -> str:
    """The space between two pieces of one line (``before`` is the piece before ``prev``, or
    before the names ``A or B`` that ``prev`` ends)."""
    if cur.kind in COMMENTS:
        return COMMENT_GAP
    if prev.kind in _NO_SPACE_AFTER or (prev.kind == "MINUS" and prev.unary):
        return ""
    if cur.kind in _NO_SPACE_BEFORE:
        return ""
    if cur.kind == "LPAR":  # a call (`len(x)`, `env("X")`) against `when (a or b)`
        return "" if prev.kind in ("NAME", "ENV") else " "
    if cur.kind == "LBRACKET" and prev.kind == "NAME":  # `list[string]` against `includes X [1]`
        return " " if before is not None and before.kind == "INCLUDES" else ""
    if cur.kind == "LBRACKET" and prev.kind in ("RPAR", "RBRACKET"):  # `f(x)[0]`, `m[0][1]`
        return ""
    if cur.kind == "RBRACE" and prev.kind == "LBRACE":
        return ""
    return " "
