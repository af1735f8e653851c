"""The LALR driver: the loop that runs the parse table on our own tokens.

Lark builds the LALR(1) table from ``om.lark``; :mod:`.tables` re-packs it as plain dicts and
keeps it in a file.  The loop reproduces what ``Lark(...).parse`` with a transformer does
(child filtering, inlining of ``_rule`` helpers, ``?rule`` pass-through) with less work per
token:

- the table's keys are plain ``str`` (Lark's rule names are ``Token`` objects, whose ``__eq__``
  is a Python function), and shifts, reductions and gotos are separate lookups;
- a ``?rule`` reduced from a single child (``sum -> term -> unary -> ...``, nine levels for
  each operand of an expression) only changes the state: the value stays on the stack;
- ``_rule`` helpers (Lark's ``x*`` repetitions) build a plain list that the parent splices,
  instead of a ``Tree`` that Lark's child filter takes apart again.

Soft keywords are resolved here too: a ``NAME`` becomes a keyword only in a state where that
keyword can be shifted, and a keyword that no longer fits after a reduction falls back to a
``NAME``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from om_dsl.syntax.lexer import KEYWORDS, Tok
from om_dsl.syntax.numbers import BAD as BAD_NUMBER
from om_dsl.syntax.numbers import fit

Reducer = Callable[[list[Any]], Any]
# One entry per grammar rule: (number of symbols, its gotos: state below -> next state,
# reducer); the reducer is None for a pass-through (the single child is the value).
Reduction = tuple[int, dict[int, int], Reducer | None]


@dataclass(frozen=True, slots=True)
class RuleShape:
    """What a reduction of one rule does, independent of any builder object."""

    size: int
    origin: str
    callback: str  # the builder method: the rule's alias, or its name
    helper: bool  # a `_rule` (e.g. a repetition): its value is a list the parent splices
    expand1: bool  # a `?rule`: one child is passed through
    splice: tuple[bool, ...]  # per child: splice a helper's list instead of appending

    @property
    def passthrough(self) -> bool:
        """Statically known to pass its single child through (most ``?rule`` reductions)."""
        return self.expand1 and self.size == 1 and not any(self.splice)


@dataclass(frozen=True, slots=True)
class Tables:
    """The parse table as plain dicts.

    ``actions``: per state, terminal -> the next state (>= 0) for a shift, or ``~i`` (< 0)
    for a reduction by rule ``i``.  ``gotos``: per rule name, the state below the reduced
    symbols -> the state after the reduction.
    """

    actions: dict[int, dict[str, int]]
    gotos: dict[str, dict[int, int]]
    rules: tuple[RuleShape, ...]
    start_state: int
    end_state: int
    chains: dict[tuple[int, int, str, str | None], int] = field(default_factory=dict)
    by_state: tuple[dict[str, int], ...] = field(init=False, repr=False, compare=False)
    """``actions`` indexed by state number: the driver looks a state up per token and per
    reduction, and indexing a tuple is cheaper than hashing an int into a dict."""

    def __post_init__(self) -> None:
        size = max(self.actions, default=-1) + 1
        by_state = tuple(self.actions.get(state, {}) for state in range(size))
        object.__setattr__(self, "by_state", by_state)  # a frozen dataclass's own field


class SyntaxProblem(Exception):
    """Raised by :func:`run` at the first token that no action accepts."""

    def __init__(self, token: Any, expected: set[str]) -> None:
        super().__init__(token.type)
        self.token = token
        self.expected = expected


def reductions(tables: Tables, builder: object) -> list[Reduction]:
    """The reductions of every rule, bound to ``builder``'s methods (one per rule or alias)."""
    gotos = tables.gotos
    return [
        (shape.size, gotos.get(shape.origin, {}), _reducer(shape, builder))
        for shape in tables.rules
    ]


def _reducer(shape: RuleShape, builder: object) -> Reducer | None:
    if shape.passthrough:
        return None
    if shape.helper:  # the commonest shapes of Lark's repetition helpers get a direct function
        if not any(shape.splice):
            return _same
        if shape.splice[0] and not any(shape.splice[1:]):
            return _extend_first
        build: Reducer | None = None
    else:
        build = getattr(builder, shape.callback, None)
        if build is None:  # a rule added to om.lark without its builder method
            raise TypeError(f"{type(builder).__name__} has no method for rule '{shape.callback}'")
    if not any(shape.splice) and not shape.expand1:
        assert build is not None
        return build
    spliced = [i for i, splice in enumerate(shape.splice) if splice]
    if not shape.expand1 and len(spliced) == 1:
        return _splice_one(spliced[0], build)
    return functools.partial(_splice_and_build, shape.splice, shape.expand1, build)


def _splice_one(index: int, build: Reducer | None) -> Reducer:
    """The child filter of a rule with one helper child (``x { y* }``, the commonest shape),
    without the per-child loop of :func:`_splice_and_build` (same list, made in C)."""
    if index == 0:  # a left-recursive repetition: extend its list in place, as the loop does

        def first(children: list[Any]) -> Any:
            items: list[Any] = children[0]
            items += children[1:]
            return items if build is None else build(items)

        return first

    def inner(children: list[Any]) -> Any:
        children[index : index + 1] = children[index]  # ``children`` is the driver's fresh slice
        return children if build is None else build(children)

    return inner


def _same(children: list[Any]) -> list[Any]:
    """``x`` starts a repetition: its list is the (fresh) list of children."""
    return children


def _extend_first(children: list[Any]) -> list[Any]:
    """``__rep x`` (or ``__rep COMMA x``): the repetition's list grows in place."""
    items: list[Any] = children[0]
    items += children[1:]
    return items


def _splice_and_build(
    splice: tuple[bool, ...], expand1: bool, build: Reducer | None, children: list[Any]
) -> Any:
    """Lark's child filter and ``?rule`` expansion, for rules whose shape needs them."""
    filtered: list[Any] = []
    for child, spliced in zip(children, splice, strict=True):
        if not spliced:
            filtered.append(child)
        elif filtered:
            filtered += child
        else:
            filtered = child  # a left-recursive repetition: extend its list in place
    if expand1 and len(filtered) == 1:
        return filtered[0]
    return filtered if build is None else build(filtered)


def _pass_through(tables: Tables, below: int, state: int, kind: str, kw: str | None) -> int:
    """The state after the run of pass-through reductions that the lookahead triggers.

    ``sum -> term -> unary -> postfix -> atom`` and the like: each only replaces the top
    state while the state below stays the same, so the run depends on (below, state, token)
    alone and is followed once per process.  A soft keyword is resolved in each state as in
    :func:`run`.  Stops at the first state whose action is not a pass-through.
    """
    while True:
        acts = tables.actions[state]
        if kw is not None:
            kind = kw if kw in acts else "NAME"
        act = acts.get(kind)
        if act is None or act >= 0 or not tables.rules[~act].passthrough:
            return state
        state = tables.gotos[tables.rules[~act].origin][below]


def expected(tables: Tables, stack: list[int]) -> set[str]:
    """The terminals the parser would really shift next, from this stack.

    The top state's actions are not enough: LALR merges the lookaheads of states that look
    alike, so after `retry staggered 1s` in a plan item the top state also reduces on `auth`,
    which only a system may hold.  Following each candidate's reductions on (a copy of) the
    real stack keeps only the terminals that end in a shift.  Runs once per syntax error.
    """
    candidates = [k for k in tables.actions[stack[-1]] if k.isupper()]
    return {k for k in candidates if _shifts(tables, stack, k)} or set(candidates)


def _shifts(tables: Tables, stack: list[int], kind: str) -> bool:
    states = list(stack)
    while True:
        act = tables.actions[states[-1]].get(kind)
        if act is None:
            return False
        if act >= 0:
            return True
        rule = tables.rules[~act]
        if rule.size:
            del states[-rule.size :]
        state = tables.gotos[rule.origin][states[-1]]
        if state == tables.end_state:
            return True
        states.append(state)


def run(  # noqa: C901, PLR0912 - the hot loop is one function on purpose
    tables: Tables, tokens: list[Tok], rules: list[Reduction], end: Tok
) -> Any:
    """Parse ``tokens`` (then ``end``) and return the start rule's value.

    The hot loop of the parser, kept in one function on purpose (local names are fast).
    Raises :class:`SyntaxProblem` at the first token that cannot be shifted.
    """
    actions, end_state = tables.by_state, tables.end_state
    state = tables.start_state
    state_stack: list[int] = [state]
    value_stack: list[Any] = []
    push_state, push_value = state_stack.append, value_stack.append
    keywords = KEYWORDS
    chains = tables.chains
    for tok in [*tokens, end]:
        kind = tok.type
        # An identifier (a NAME, or a keyword from an earlier run over the same tokens) is the
        # keyword `kw` in a state that can shift that keyword, and a NAME everywhere else.
        kw = keywords.get(tok.value)
        if kw is not None and kind not in ("NAME", kw):
            kw = None  # e.g. a STRING whose text is a keyword
        while True:
            state_actions = actions[state]
            if kw is not None:
                tok.type = kind = kw if kw in state_actions else "NAME"
            try:
                act = state_actions[kind]
            except KeyError:
                if kind == BAD_NUMBER and fit(tok, state_actions):
                    kind = tok.type  # a bad number where a number goes: reported later (E005)
                    continue
                raise SyntaxProblem(tok, expected(tables, state_stack)) from None
            if act >= 0:  # shift
                push_state(act)
                push_value(tok)
                state = act
                break
            size, goto, reduce = rules[~act]
            if reduce is None:  # pass-through: only the state changes, maybe several times
                key = (state_stack[-2], state, kind, kw)
                top = chains.get(key)
                if top is None:
                    top = chains[key] = _pass_through(tables, state_stack[-2], state, kind, kw)
                state = state_stack[-1] = top
                continue
            # The reduced value and its state take the place of the first child's on the
            # stacks: no push after the pops (a third of all reductions have one child).
            if size == 1:
                value_stack[-1] = reduce([value_stack[-1]])
                state = state_stack[-1] = goto[state_stack[-2]]
            elif size:
                children = value_stack[-size:]
                del state_stack[1 - size :]
                del value_stack[1 - size :]
                value_stack[-1] = reduce(children)
                state = state_stack[-1] = goto[state_stack[-2]]
            else:
                push_value(reduce([]))
                state = goto[state_stack[-1]]
                push_state(state)
            if state == end_state and tok is end:
                return value_stack[-1]
    return value_stack[-1] if value_stack else []
