"""Hints for syntax errors whose cause is a habit from another language, not a typo.

A plain E001 says what the grammar expected, which is right but leaves the designer to work
out why: `speed = 100` in a condition is the `=` of SQL and spreadsheets, `50 <= speed <= 500`
is mathematics (and Python), `timeout 5 s` is how people write durations, `/* */` is
C's comment, and `tier: enum { gold, silver }` is a schema language's type written in place.
So are an attribute's `= 100`, `range 1..10` and `optional`, a rule's `if`, SQL's `is null`,
JSON's `name: value` in a mapping, bare text where a string goes (`handler net.go`), and a
duration without its unit.  (`&&`, `||`, `!`, `'text'`, `#`, curly quotes and typeset
operators are the lexer's: it reads them as what they mean here, see
:meth:`om_dsl.syntax.lexer.Lexer._foreign`.)  Each rule here looks at the unexpected token and
its neighbours in the declaration, and says what to write instead.

A `when` that ends a line with its condition forgotten takes the keyword that starts the
next line as its condition, and the error lands a token later, so it names the `when`.

A bracket left open inside a declaration is only noticed where the next line does not fit
(`-> Other` after `-> Line { speed = speed`), so that error names the bracket too.

`auth bearer "token"` gets a hint of its own for a different reason: a secret written into
the catalog would end up in git and in the IR, so the hint says where secrets go instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from om_dsl.syntax.lexer import KEYWORDS, Tok

_COMPARISONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE"})
_UNITS = frozenset({"ms", "s", "m", "h", "d"})
# Tokens that end the expression a comparison belongs to, walking back from it.
_EXPR_BOUNDARY = frozenset(
    {"WHEN", "UNTIL", "ASSIGN", "COLON", "SEMI", "LBRACE", "RBRACE", "LPAR", "COMMA",
     "AND", "OR", "NOT", "IF", "THEN", "ELSE"}
)  # fmt: skip

# Tokens a comparison's right operand may hold outside parentheses.
_OPERAND = frozenset(
    {"NAME", "INT", "DECIMAL", "STRING", "TRUE", "FALSE", "NULL", "DOT", "PLUS", "MINUS",
     "STAR", "SLASH", "PERCENT"}
)  # fmt: skip

# Keywords that end an operand: past the error they are still plain names (the parser settles
# a soft keyword only up to where it stopped).
_OPERAND_ENDS = frozenset({"and", "or", "then", "else", "after", "before", "as", "when"})

CLOSERS = {"LBRACE": "RBRACE", "LPAR": "RPAR", "LBRACKET": "RBRACKET"}
_OPENERS = {closer: opener for opener, closer in CLOSERS.items()}

Rule = Callable[[list[Tok], int, set[str]], "str | None"]


def tailored_hints(chunk: list[Tok], bad: int, expected: set[str]) -> list[str]:
    """The hints that fit the token at ``chunk[bad]`` (at most one rule matches a token)."""
    for rule in _RULES:
        hint = rule(chunk, bad, expected)
        if hint is not None:
            return [hint]
    return []


def _assign_for_equals(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    if chunk[bad].type != "ASSIGN" or "EQ" not in expected:
        return None
    return "to compare, write '=='; a single '=' sets an attribute in a mapping"


def _chained_comparison(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    tok = chunk[bad]
    if tok.type not in _COMPARISONS:
        return None
    first = _previous_comparison(chunk, bad)
    if first is None:
        return None
    left, middle = _text(chunk[_start(chunk, first) : first]), _text(chunk[first + 1 : bad])
    if not middle:  # two operators in a row: no chain to split
        op = chunk[first]
        not_equal = (op.value, tok.value) == ("<", ">")  # SQL's and BASIC's not-equal
        if not_equal and _touching(op, tok):
            return "'<>' is not an operator here: write '!=' for not equal"
        return None
    right = _text(chunk[bad + 1 : _end(chunk, bad)]) or "..."
    return (
        "comparisons do not chain: write "
        f"'{left} {chunk[first].value} {middle} and {middle} {tok.value} {right}'"
    )


def _previous_comparison(chunk: list[Tok], bad: int) -> int | None:
    """The comparison operator earlier in the same expression as ``chunk[bad]``, if any."""
    return next((i for i in _back(chunk, bad) if chunk[i].type in _COMPARISONS), None)


def _start(chunk: list[Tok], op: int) -> int:
    """Where the left operand of the comparison at ``op`` begins."""
    return min(_back(chunk, op), default=op)


def _back(chunk: list[Tok], i: int) -> Iterator[int]:
    """The tokens before ``chunk[i]`` outside parentheses, walking back to the start of the
    expression (`f(a < b)` does not end at the `(` of the call)."""
    depth = 0
    for j in range(i - 1, -1, -1):
        kind = chunk[j].type
        if kind == "RPAR":
            depth += 1
        elif kind == "LPAR" and depth:
            depth -= 1
        elif depth == 0 and kind in _EXPR_BOUNDARY:
            return
        if depth == 0:
            yield j


def _end(chunk: list[Tok], op: int) -> int:
    """Where the right operand of the operator at ``op`` ends (exclusive)."""
    depth = 0
    for i in range(op + 1, len(chunk)):
        kind = chunk[i].type
        if kind == "LPAR":
            depth += 1
        elif kind == "RPAR" and depth:
            depth -= 1
        elif depth == 0 and (kind not in _OPERAND or chunk[i].value in _OPERAND_ENDS):
            return i
    return len(chunk)


def _text(toks: list[Tok]) -> str:
    """Tokens as written, a space between them unless they touched in the source."""
    out = ""
    for i, tok in enumerate(toks):
        out += ("" if i == 0 or _touching(toks[i - 1], tok) else " ") + _shown(tok)
    return out


def _shown(tok: Tok) -> str:
    return f'"{tok.value}"' if tok.type == "STRING" else tok.value


def _spaced_duration(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    tok = chunk[bad]
    if tok.type != "INT" or "DURATION" not in expected or bad + 1 >= len(chunk):
        return None
    unit = chunk[bad + 1]
    if unit.type != "NAME" or unit.value not in _UNITS or unit.line != tok.line:
        return None
    return f"write the unit right after the number: '{tok.value}{unit.value}'"


def _block_comment(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    tok = chunk[bad]
    if tok.type != "SLASH" or bad + 1 >= len(chunk):
        return None
    star = chunk[bad + 1]
    if star.type != "STAR" or not _touching(tok, star):
        return None
    return "comments start with //, on each line of a comment ('/* ... */' is no comment here)"


def _inline_secret(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    if chunk[bad].type != "STRING" or expected != {"ENV"}:
        return None
    return (
        "secrets are never written in a catalog (it is kept in git and compiled into the IR): "
        'name the environment variable that holds it, e.g. env("INVENTORY_TOKEN")'
    )


def _match(toks: list[Tok]) -> tuple[list[tuple[Tok, Tok]], list[Tok]]:
    """Brackets paired by position: the (opener, closer) pairs in the order they close, and
    the openers left open, innermost last (a closer that fits no opener is passed over)."""
    pairs: list[tuple[Tok, Tok]] = []
    stack: list[Tok] = []
    for tok in toks:
        if tok.type in CLOSERS:
            stack.append(tok)
        elif tok.type in _OPENERS and stack and stack[-1].type == _OPENERS[tok.type]:
            pairs.append((stack.pop(), tok))
    return pairs, stack


def unclosed(toks: list[Tok]) -> Tok | None:
    """The innermost bracket left open in ``toks``."""
    stack = _match(toks)[1]
    return stack[-1] if stack else None


def misplaced_closer(toks: list[Tok]) -> tuple[Tok, Tok] | None:
    """A bracket whose closing one is missing, told by the indentation: the first pair,
    matched by position, whose closer starts a line left of where the opener's line starts.

    Brackets pair by position, so in `decompose A {` / `  -> B { x = 1` / `}` the `}` closes
    the `{` of line 2 and the one of line 1 looks unclosed; the `}` sits where line 1 starts,
    so it was meant for line 1, and line 2's is the one left open.
    """
    indent: dict[int, int] = {}
    for tok in toks:
        indent.setdefault(tok.line, tok.column)
    for opener, closer in _match(toks)[0]:
        starts_line = indent[closer.line] == closer.column and closer.line != opener.line
        if starts_line and closer.column < indent[opener.line]:
            return opener, closer
    return None


def _open_on_an_earlier_line(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """A line that does not fit, after a line that left a bracket open, in a declaration
    whose brackets do not balance: the bracket is the likelier mistake than the line."""
    tok = chunk[bad]
    if bad == 0 or chunk[bad - 1].line == tok.line or unclosed(chunk) is None:
        return None
    opened = unclosed(chunk[:bad])
    if opened is None or opened.line == tok.line or CLOSERS[opened.type] not in expected:
        return None
    return f"'{opened.value}' opened at line {opened.line} is not closed"


def _empty_condition(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`when` ending a line, its condition forgotten: the keyword starting the next line
    (`manual`, `auto`) was read as the condition, a plain name, and the error comes after it."""
    if bad < 2:
        return None
    taken, keyword = chunk[bad - 1], chunk[bad - 2]
    if keyword.type not in ("WHEN", "UNTIL") or taken.type != "NAME":
        return None
    if taken.value not in KEYWORDS or taken.line == keyword.line:
        return None
    return (
        f"'{keyword.value}' at the end of line {keyword.line} has no condition, so "
        f"'{taken.value}' was read as one"
    )


def _empty_values(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`values []`: the grammar takes one value at least (an empty list would allow none)."""
    if chunk[bad].type != "RBRACKET" or bad < 2 or chunk[bad - 1].type != "LBRACKET":
        return None
    if chunk[bad - 2].value != "values":
        return None
    return "a values list needs at least one value; to allow any value, remove `values`"


def _inline_enum(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`attribute tier: enum { gold, silver }`: a type written in place, as schema languages
    allow; here an enum is declared once, at the top level, and attributes name it."""
    opener = bad
    while opener > 0 and chunk[opener].type in _MEMBER_TOKENS:  # `enum [gold, "x"` fails inside
        opener -= 1
    if chunk[opener].type not in _INLINE_OPENERS or opener < 3:
        return None
    name, colon, word = chunk[opener - 3 : opener]
    if word.value != "enum" or colon.type != "COLON" or name.type != "NAME":
        return None
    enum = "".join(part[:1].upper() + part[1:] for part in name.value.split("_")) or "Values"
    members = ", ".join(_members(chunk, opener)) or "..."
    return (
        f"an attribute's type names an enum declared at the top level: write "
        f"'enum {enum} {{ {members} }}' and then 'attribute {name.value}: {enum}'"
    )


_INLINE_OPENERS = frozenset({"LBRACE", "LPAR", "LBRACKET"})
_MEMBER_TOKENS = frozenset({"NAME", "STRING", "COMMA"})


def _members(chunk: list[Tok], opener: int) -> list[str]:
    """The member names written inside the bracket at ``chunk[opener]`` (strings that are
    names too: `enum("gold", "silver")`)."""
    closer = CLOSERS[chunk[opener].type]
    found: list[str] = []
    for tok in chunk[opener + 1 :]:
        if tok.type == closer:
            break
        if tok.type in ("NAME", "STRING") and tok.value.isidentifier() and tok.value.isascii():
            found.append(tok.value)
    return found


# An attribute's options as schema languages write them: word -> what to write here (None:
# nothing, the word only restates the default).
_OPTION_WORDS: dict[str, str | None] = {
    "range": "in LOW..HIGH",
    "between": "in LOW..HIGH",
    "min": "in LOW..HIGH",
    "max": "in LOW..HIGH",
    "minimum": "in LOW..HIGH",
    "maximum": "in LOW..HIGH",
    "mandatory": "required",
    "optional": None,
    "nullable": None,
    "regex": 'pattern "REGEX"',
    "enum": "values [A, B]",
    "choices": "values [A, B]",
    "allowed": "values [A, B]",
    "label": 'description "TEXT"',
    "title": 'description "TEXT"',
}


def _separator_after_keyword(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`url: "..."`, `timeout = 5s`, `default=100`, `required=true`: a keyword's value written
    after `:` or `=`, as YAML and INI write it."""
    tok = chunk[bad]
    if tok.type not in ("ASSIGN", "COLON") or bad == 0:
        return None
    keyword = chunk[bad - 1]
    if KEYWORDS.get(keyword.value) != keyword.type:
        return None
    if keyword.type == "REQUIRED":
        return "'required' takes no value: an attribute without it is optional"
    return f"write the value right after '{keyword.value}', without '{tok.value}'"


def _attribute_option(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`speed: int = 100`, `range 1..10`, `optional`: an attribute's options as other schema
    languages write them."""
    tok = chunk[bad]
    if tok.type == "ASSIGN" and "DEFAULT" in expected:
        value = _text(chunk[bad + 1 : _end(chunk, bad)]) or "VALUE"
        return f"a default value is written 'default {value}'"
    if tok.type != "NAME" or "DEFAULT" not in expected or tok.value not in _OPTION_WORDS:
        return None
    instead = _OPTION_WORDS[tok.value]
    if instead is None:
        return f"an attribute is optional unless it is 'required': remove '{tok.value}'"
    after = chunk[bad + 1 : bad + 4]
    if instead.startswith("in ") and [t.type for t in after][1:2] == ["DOTDOT"]:
        instead = f"in {_text(after)}"  # `range 1..10`: the designer's own bounds
    return f"write '{instead}'"


def _if_for_when(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`decompose A -> B if speed > 10`, `auto go handler "x" if ...`: a rule's or a plan
    item's condition is a `when`."""
    if chunk[bad].value != "if" or "WHEN" not in expected:
        return None
    return "a condition here is written 'when CONDITION' ('if' chooses between two values)"


def _is_null(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """SQL's `x is null` / `x is not null`."""
    words = [tok.value for tok in chunk[bad + 1 : bad + 3]]  # past the error: still names
    if chunk[bad].value != "is" or not words or bad == 0 or chunk[bad - 1].type in _EXPR_BOUNDARY:
        return None
    negated = words == ["not", "null"]
    if not negated and words[0] != "null":
        return None
    left = _text(chunk[_start(chunk, bad) : bad])
    return f"write '{left} {'!=' if negated else '=='} null'"


def _retry_count(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`retry 3`: a count alone, where the policy's kind comes first."""
    if chunk[bad].type != "INT" or bad == 0 or chunk[bad - 1].type != "RETRY":
        return None
    return (
        f"a retry policy starts with its kind: 'retry fixed 10s max {chunk[bad].value}' "
        "(or exponential, staggered, none)"
    )


def _colon_for_assign(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`{ speed: speed }` in a mapping or a response, where values are set with `=` (a
    request body is the one place that writes `name: value`, as JSON does)."""
    if chunk[bad].type != "COLON" or expected != {"ASSIGN"} or bad == 0:
        return None
    name = chunk[bad - 1].value
    value = _text(chunk[bad + 1 : _end(chunk, bad)]) or "..."
    return f"write '{name} = {value}': mappings and responses set values with '='"


def _bare_text(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`handler net.go`, `POST /ports`, `id 14301`, `version 1.0`, `env(TOKEN)`: text the
    language takes in quotes; and a bare URL, whose `//` started a comment."""
    if "STRING" not in expected or chunk[bad].type not in _UNQUOTED:
        return None
    after = chunk[bad + 1 : bad + 2]
    if chunk[bad].value in ("http", "https") and after and after[0].type == "COLON":
        # the `//` of the URL started a comment
        return f'write the URL in quotes: "{chunk[bad].value}://..." (bare, // starts a comment)'
    if expected != {"STRING"}:
        return None
    end = bad + 1
    while (
        end < len(chunk) and chunk[end].type in _WORDLIKE and _touching(chunk[end - 1], chunk[end])
    ):
        end += 1
    return f'write it in quotes: "{_text(chunk[bad:end])}"'


_UNQUOTED = frozenset({"NAME", "SLASH", "INT", "DECIMAL"})
_WORDLIKE = _UNQUOTED | {"DOT", "MINUS"}  # what a bare path, handler or id is made of


def _touching(left: Tok, right: Tok) -> bool:
    return left.line == right.line and left.end_column == right.column


def _duration_unit(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`timeout 30`: a number where a duration goes (`30 s` is :func:`_spaced_duration`'s)."""
    if chunk[bad].type != "INT" or "DURATION" not in expected:
        return None
    return f"a duration has a unit: '{chunk[bad].value}s' (ms, s, m, h or d)"


def _depend_before(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`depend A.x before B.y`: the grammar has `after` only, so the pair is turned round."""
    if chunk[0].type != "DEPEND" or chunk[bad].value != "before" or "AFTER" not in expected:
        return None
    tail = ("within", "when")
    end = next((i for i in range(bad + 1, len(chunk)) if chunk[i].value in tail), len(chunk))
    first, then = _text(chunk[1:bad]), _text(chunk[bad + 1 : end])
    if not then:
        return None
    scope = f" {_text(chunk[end:])}" if end < len(chunk) else ""
    swap = ""
    if any(tok.value == "when" for tok in chunk[end:]):
        swap = " (and swap `line.` and `other.` in its condition: `line` is the waiting line)"
    return f"write it the other way round: 'depend {then} after {first}{scope}'{swap}"


def _includes_list(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`includes Web, Voice`: one product per `includes`, each with its own cardinality."""
    if chunk[bad].type != "COMMA" or bad < 2 or chunk[bad - 2].type != "INCLUDES":
        return None
    names = [chunk[bad - 1].value]
    i = bad
    while i + 1 < len(chunk) and chunk[i].type == "COMMA" and chunk[i + 1].type == "NAME":
        names.append(chunk[i + 1].value)
        i += 2
    each = [f"'includes {name}'" for name in names]
    return f"one product per includes: write {', '.join(each[:-1])} and {each[-1]}"


def _requires_list(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`requires A, B` or `requires A and B`: either one, or both? Say how to write each."""
    if chunk[bad].value not in (",", "and") or "OR" not in expected:
        return None
    if bad < 2 or chunk[bad - 2].type != "REQUIRES":  # `requires A or B, C`: no list of its own
        return None
    names = [chunk[bad - 1].value]
    i = bad
    while i + 1 < len(chunk) and chunk[i].value in (",", "and") and chunk[i + 1].type == "NAME":
        names.append(chunk[i + 1].value)
        i += 2
    if len(names) < 2:
        return None
    both = " and ".join(f"'requires {name}'" for name in names)
    return f"for any one of them write 'requires {' or '.join(names)}'; for all of them, {both}"


# Other languages' functions, lower-cased, and what to write here (`x` the value): for calls
# (`strip(x)`, which the spelling guess would read as `str`), and, where the function takes the
# value alone, for properties and methods (`x.length`, `x.upper()`).  The compiler reads it too.
_ELSEWHERE = {
    "strip": "trim(x)",
    "trim": "trim(x)",
    "upper": "upper(x)",
    "lower": "lower(x)",
    "touppercase": "upper(x)",
    "tolowercase": "lower(x)",
    "uppercase": "upper(x)",
    "lowercase": "lower(x)",
    "length": "len(x)",
    "size": "len(x)",
    "count": "len(x)",
    "format": "concat(a, b, ...)",
    "sum": "a + b",
    "substring": "substr(x, start, length)",
    "startswith": "starts_with(x, prefix)",
    "endswith": "ends_with(x, suffix)",
    "includes": "contains(x, value)",
    "ifnull": "coalesce(x, default)",
    "nvl": "coalesce(x, default)",
    "tostring": "str(x)",
    "string": "str(x)",
    "integer": "int(x)",
    "float": "decimal(x)",
    "dateadd": "add_days(date, days)",
    "date_add": "add_days(date, days)",
    "adddays": "add_days(date, days)",
    "plusdays": "add_days(date, days)",
    "datediff": "days_between(first, second)",
    "date_diff": "days_between(first, second)",
    "daysbetween": "days_between(first, second)",
}


def function_elsewhere(name: str) -> str | None:
    """What to write here for another language's function ``name`` (`strip` -> `trim(x)`)."""
    return _ELSEWHERE.get(name.lower())


def as_function(member: str, value: str) -> str | None:
    """``value.member``, another language's property or method, as a call here (`len(name)`
    for `name.length`); None unless the function takes the value alone."""
    call = function_elsewhere(member)
    if call is None or not call.endswith("(x)"):
        return None
    return f"{call[:-3]}({value})"


def _method_call(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`name.upper()`: a method call, where the language has functions."""
    if chunk[bad].type != "LPAR" or bad < 3 or chunk[bad - 2].type != "DOT":
        return None
    call = as_function(chunk[bad - 1].value, chunk[bad - 3].value)
    if call is None:
        return None
    return f"write {call}: functions take the value as an argument"


def _object_outside_request(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`x = [{ a: 1 }]` or `x = { a: 1 }` in a mapping, or an object among arguments:
    objects (and lists of them) are JSON templates, written only in a callout's request."""
    if chunk[bad].type != "LBRACE" or bad == 0 or "LBRACE" in expected:
        return None
    if chunk[bad - 1].type not in ("LBRACKET", "COMMA", "ASSIGN"):
        return None
    member = [t.type for t in chunk[bad + 1 : bad + 3]]
    if member not in (["NAME", "COLON"], ["STRING", "COLON"]):
        return None  # `on add, {`: a block after a list cut short, not an object
    return "objects ({ name: value }) are written only in a callout's request"


def _semicolon_for_comma(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`request { a: 1; b: 2 }`: a request's fields are JSON's, separated by commas (``;``
    separates mappings, which set values with ``=``)."""
    if chunk[bad].type != "SEMI" or "COMMA" not in expected or "SEMI" in expected:
        return None
    if not any(t.type == "REQUEST" for t in chunk[:bad]):
        return None  # `on add; after parent`: a list, not a request
    return "separate a request's fields with ',' as in JSON; ';' separates mappings"


_RULE_CLAUSES = frozenset({"as", "when", "after", "before"})


def _clause_after_mappings(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`-> Sim { m = m } before parent`: a rule's clauses come before its mapping block."""
    if chunk[bad].value not in _RULE_CLAUSES or bad == 0 or chunk[bad - 1].type != "RBRACE":
        return None
    depth = 0
    for i in range(bad - 1, -1, -1):  # back to the block's `{`, then to the rule's `->`
        kind = chunk[i].type
        depth += kind == "RBRACE"
        depth -= kind == "LBRACE"
        if depth == 0:
            return _rule_head(chunk, i)
    return None


def _rule_head(chunk: list[Tok], opener: int) -> str | None:
    for tok in reversed(chunk[:opener]):
        if tok.type == "ARROW":
            return "a rule's `as`, `when` and `after|before parent` come before its { ... } block"
        if tok.type in ("LBRACE", "RBRACE", "DECOMPOSE"):
            return None
    return None


def _arrow_for_decompose(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`decompose Site => Router` (or `-->`): the rule's arrow is ``->``."""
    if "ARROW" not in expected or chunk[bad].type not in ("ASSIGN", "EQ", "MINUS", "GT"):
        return None
    return "write '->' between the source and the target of a rule"


def _decimal_comma(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`default 1,5`: a decimal written with the comma of many languages (`1,5` is 1.5)."""
    if chunk[bad].type != "COMMA" or bad == 0 or bad + 1 >= len(chunk):
        return None
    left, right = chunk[bad - 1], chunk[bad + 1]
    if left.type != "INT" or right.type != "INT":
        return None
    if not (_touching(left, chunk[bad]) and _touching(chunk[bad], right)):
        return None
    return f"a decimal is written with a point: '{left.value}.{right.value}'"


def _nested_list(chunk: list[Tok], bad: int, expected: set[str]) -> str | None:
    """`list[list[int]]`: a list of lists, which is no type of the language."""
    if chunk[bad].type != "LBRACKET" or bad < 3 or chunk[bad - 1].value != "list":
        return None
    if chunk[bad - 2].type != "LBRACKET" or chunk[bad - 3].value != "list":
        return None
    return "lists do not nest: the T of list[T] is int, decimal, string, bool, date or an enum"


_RULES: tuple[Rule, ...] = (
    _decimal_comma,
    _nested_list,
    _semicolon_for_comma,
    _clause_after_mappings,
    _arrow_for_decompose,
    _object_outside_request,
    _empty_values,
    _inline_enum,
    _separator_after_keyword,
    _attribute_option,
    _if_for_when,
    _is_null,
    _retry_count,
    _depend_before,
    _includes_list,
    _requires_list,
    _method_call,
    _colon_for_assign,
    _bare_text,
    _empty_condition,
    _assign_for_equals,
    _chained_comparison,
    _spaced_duration,
    _duration_unit,
    _inline_secret,
    _block_comment,
    _open_on_an_earlier_line,
)
