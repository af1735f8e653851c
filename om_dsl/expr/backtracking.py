"""A compile-time warning (W013) for patterns that can backtrack catastrophically.

Every match has a time limit (:mod:`om_dsl.expr.patterns`), and an order's matches a budget,
so a slow pattern cannot stall the service; but it still refuses the values it runs out of time
on, which an order's author cannot fix.  This says so when the catalog compiles.

The heuristic, kept simple and on the side of silence (a warning on a sound pattern teaches
designers to ignore warnings).  A *repeated group* is a group under a quantifier that allows a
variable number of repetitions (``*``, ``+``, ``{m,}``, ``{m,n}`` with ``n > m``, lazy or not).
It is reported when it is an alternation whose branches can start with the same character,
unless every branch is plain text and the words split any text in one way only (a uniquely
decodable code, :func:`_uniquely_decodable`): ``(a|aa)+``, ``([A-Z]|[A-Z0-9])+``; but not
``(ab|cd)+``, ``(cat|car)+`` or ``(ab|a)+``.

Nested quantifiers (``(a+)+``, ``(.*)*``, ``(\\w+\\s?)+``) are the textbook case, but the
``regex`` engine om_dsl matches with recognises them and fails such a match in microseconds
(measured), while overlapping alternatives still double its work with each character: only
those are reported.

Characters are compared on a sample (ASCII and a few others), which is enough to tell classes
such as ``[0-9]``, ``\\w`` and ``.`` apart.  A pattern this reader does not follow gets no
warning: inline flags, conditionals, back-references, ``\\x``/``\\u`` escapes and properties,
and possessive quantifiers and atomic groups (which their writer made not to backtrack).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex

SAMPLE = frozenset(chr(c) for c in range(128)) | frozenset("\u00a0\u00e9\u00df\u03a9\u0661\u4e2d")
"""The characters classes are compared on."""


class Unsupported(Exception):
    """The pattern uses syntax the reader does not follow: no warning."""


@dataclass(slots=True)
class Node:
    """One element of a sequence: an atom (``chars``), a group (``branches``), or a zero-width
    assertion (neither).  ``low``/``high`` are its quantifier's bounds (``high`` None: no
    bound); ``text`` is what the pattern says, for the message."""

    text: str
    chars: frozenset[str] = frozenset()
    branches: list[list[Node]] | None = None
    low: int = 1
    high: int | None = 1
    literal: str | None = None
    """The character it matches, when it matches exactly one (for the plain-text test)."""
    width: bool = True
    """False for an assertion (``^``, ``$``, ``\\b``, a lookaround): it matches no text."""

    @property
    def varies(self) -> bool:
        """Repeated a variable number of times (``*``, ``+``, ``{1,5}``), beyond one."""
        return self.high is None or self.high > max(self.low, 1)

    @property
    def nullable(self) -> bool:
        if not self.width or self.low == 0:
            return True
        return self.branches is not None and any(_nullable(b) for b in self.branches)


def catastrophic(pattern: str) -> str | None:
    """The repeated group of ``pattern`` that can backtrack catastrophically, as written, or
    None (also for a pattern this reader does not follow)."""
    try:
        return _find(_Reader(pattern).sequence_top())
    except (Unsupported, IndexError):
        return None


def _find(seq: list[Node]) -> str | None:
    for node in seq:
        for branch in node.branches or []:
            found = _find(branch)
            if found is not None:
                return found
        if node.branches is not None and node.varies and _ambiguous(node):
            return node.text
    return None


def _ambiguous(group: Node) -> bool:
    branches = group.branches or []
    return len(branches) > 1 and _branches_overlap(branches)


def _branches_overlap(branches: list[list[Node]]) -> bool:
    words = [_plain_text(b) for b in branches]
    if all(w is not None for w in words):
        texts = [w or "" for w in words]
        return len(set(texts)) < len(texts) or not _uniquely_decodable(set(texts))
    firsts = [_first(b, SAMPLE) for b in branches]
    return any(firsts[i] & firsts[j] for i in range(len(firsts)) for j in range(i))


def _uniquely_decodable(words: set[str]) -> bool:
    """Whether every text is a sequence of ``words`` in one way at most (Sardinas-Patterson).

    Such a repeated group splits a text one way only, so it cannot backtrack exponentially:
    ``(ab|a)*`` (a suffix code) was reported because ``a`` starts ``ab``, and a test of the
    prefix alone cannot tell it from ``(a|aa)*``.  An empty word repeats for free: ambiguous.
    """
    if "" in words:
        return False
    dangling = {b[len(a) :] for a in words for b in words if a != b and b.startswith(a)}
    seen: set[str] = set()
    while dangling:
        if "" in dangling or dangling & words:
            return False
        seen |= dangling
        step = {w[len(d) :] for d in dangling for w in words if w.startswith(d)}
        step |= {d[len(w) :] for d in dangling for w in words if d.startswith(w)}
        dangling = step - seen
    return True


def _plain_text(seq: list[Node]) -> str | None:
    """The text a branch matches when it is plain characters, else None."""
    if any(n.literal is None or n.low != 1 or n.high != 1 for n in seq):
        return None
    return "".join(n.literal or "" for n in seq)


def _first(seq: list[Node], after: frozenset[str]) -> frozenset[str]:
    """The characters a match of ``seq`` can start with (``after`` if it can be empty)."""
    found: frozenset[str] = frozenset()
    for node in seq:
        found |= _first_of_group(node) if node.branches is not None else node.chars
        if not node.nullable:
            return found
    return found | after


def _first_of_group(group: Node) -> frozenset[str]:
    return frozenset().union(*(_first(b, frozenset()) for b in group.branches or []))


def _nullable(seq: list[Node]) -> bool:
    return all(n.nullable for n in seq)


@lru_cache(maxsize=256)
def _chars(atom: str) -> frozenset[str]:
    """The sample characters one atom (``a``, ``\\d``, ``[^,]``, ``.``) matches."""
    try:
        compiled = regex.compile(atom, regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError):
        raise Unsupported(atom) from None
    return frozenset(c for c in SAMPLE if compiled.fullmatch(c))


_ASSERTIONS = frozenset("bBAZ")
_CLASSES = frozenset("dDwWsS")


@dataclass(slots=True)
class _Reader:
    """A recursive-descent reader of the ``re`` syntax, enough for the heuristic."""

    text: str
    at: int = 0
    depth: int = 0

    def sequence_top(self) -> list[Node]:
        branches = self._alternation()
        if self.at != len(self.text):
            raise Unsupported("unbalanced ')'")
        return [Node(self.text, branches=branches)]

    def _alternation(self) -> list[list[Node]]:
        self.depth += 1
        if self.depth > 100:
            raise Unsupported("nested too deep")
        branches = [self._sequence()]
        while self.at < len(self.text) and self.text[self.at] == "|":
            self.at += 1
            branches.append(self._sequence())
        self.depth -= 1
        return branches

    def _sequence(self) -> list[Node]:
        seq: list[Node] = []
        while self.at < len(self.text) and self.text[self.at] not in "|)":
            start = self.at
            node = self._atom()
            self._quantifier(node)
            node.text = self.text[start : self.at]
            if node.high != 0:
                seq.append(node)
        return seq

    def _atom(self) -> Node:
        c = self.text[self.at]
        if c == "(":
            return self._group()
        if c == "[":
            return self._class()
        if c == "\\":
            return self._escape()
        self.at += 1
        if c in "^$":
            return Node(c, width=False)
        if c in "*+?" or (c == "{" and self._counted_ahead(self.at - 1)):
            raise Unsupported("a quantifier with nothing to repeat")
        if c == ".":
            return Node(c, _chars("."))
        return Node(c, _chars(regex.escape(c)), literal=c)

    def _escape(self) -> Node:
        start = self.at
        kind = self.text[self.at + 1]
        self.at += 2
        if kind in _ASSERTIONS:
            return Node(self.text[start : self.at], width=False)
        if kind in _CLASSES:
            return Node(self.text[start : self.at], _chars(self.text[start : self.at]))
        if kind.isdigit() or kind in "xuUNpPgkG":
            raise Unsupported("a back-reference, a code point or a property")
        literal = None if kind.isalnum() else kind  # `\n` is no `n`
        return Node(self.text[start : self.at], _chars(self.text[start : self.at]), literal=literal)

    def _class(self) -> Node:
        start = self.at
        self.at += 1
        if self.text[self.at] == "^":
            self.at += 1
        if self.text[self.at] == "]":
            self.at += 1
        while self.text[self.at] != "]":
            self.at += 2 if self.text[self.at] == "\\" else 1
        self.at += 1
        return Node(self.text[start : self.at], _chars(self.text[start : self.at]))

    def _group(self) -> Node:
        self.at += 1
        lookaround = False
        if self.text.startswith("?", self.at):
            lookaround = self._group_kind()
        branches = self._alternation()
        if self.text[self.at] != ")":
            raise Unsupported("an unclosed group")
        self.at += 1
        if lookaround:
            return Node("", width=False)
        return Node("", branches=branches)

    def _group_kind(self) -> bool:
        """Skip ``?:``/``?P<name>``; True for a lookaround, whose text is not consumed."""
        rest = self.text[self.at :]
        for prefix in ("?:", "?P<"):
            if rest.startswith(prefix):
                self.at = self.text.index(">", self.at) + 1 if prefix == "?P<" else self.at + 2
                return False
        for prefix in ("?=", "?!", "?<=", "?<!"):
            if rest.startswith(prefix):
                self.at += len(prefix)
                return True
        raise Unsupported("inline flags, an atomic group or a conditional")

    def _quantifier(self, node: Node) -> None:
        if self.at >= len(self.text):
            return
        c = self.text[self.at]
        if c in "*+?":
            self.at += 1
            node.low, node.high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{" and self._counted_ahead(self.at):
            self._counted(node)
        else:
            return
        if self.text.startswith("+", self.at):
            raise Unsupported("a possessive quantifier: it does not backtrack")
        if self.text.startswith("?", self.at):
            self.at += 1  # lazy: backtracks as much

    def _counted_ahead(self, at: int) -> bool:
        end = self.text.find("}", at)
        body = self.text[at + 1 : end] if end > 0 else ""
        low, comma, high = body.partition(",")
        return (low.isdigit() or (comma != "" and low == "")) and (high.isdigit() or high == "")

    def _counted(self, node: Node) -> None:
        end = self.text.index("}", self.at)
        low, comma, high = self.text[self.at + 1 : end].partition(",")
        self.at = end + 1
        node.low = int(low or "0")
        node.high = int(high) if high else (None if comma else node.low)
