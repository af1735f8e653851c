"""The durable engine: the same rule IR run as a durable-rules ruleset, through the adapter.

Each rule becomes one durable rule: "the fact's product is the rule's source (or a member of
its family) and the condition holds", the condition translated by
:mod:`om_dsl.rules.durable_conditions` or precomputed into a bool field.  A fact carries only
the fields some rule of its product reads.  When durable reports a match, the shared
``sink.produce`` computes the line with the same mapping closures as the compiled engine
and returns the facts it made, which the adapter asserts in turn (chains).

durable is only imported by :mod:`om_dsl.rules.durable_adapter`, which serialises every call,
so this engine is safe to share between threads, but slow (see ``benchmarks/``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from om_dsl.expr.evaluate import EvalError
from om_dsl.rules.durable_adapter import (
    UNAVAILABLE_MESSAGE,
    DurableEngineError,
    DurableRuleset,
    durable_available,
)
from om_dsl.rules.durable_conditions import Json, translate
from om_dsl.rules.engine import EngineName, EngineUnavailable, Fact, RuleFailed, Sink
from om_dsl.rules.program import CompiledRule, RuleProgram

TRANSLATION_VERSION = 1
"""Part of the ruleset name: a new translation never meets an old registration."""

_PRODUCT = "p"
_KEY = "k"


@dataclass(frozen=True, slots=True)
class _Shape:
    """How to build the durable fact of one product: fields read, conditions precomputed."""

    fields: tuple[tuple[str, str, str], ...]
    """(fact field, root, name) for every reference a translated condition reads."""
    precomputed: tuple[CompiledRule, ...]


class DurableEngine:
    name: EngineName = "durable"

    def __init__(self, program: RuleProgram) -> None:
        if not durable_available():
            raise EngineUnavailable(UNAVAILABLE_MESSAGE)
        self.program = program
        conditions, shapes = _emit(program)
        self.shapes = shapes
        self.ruleset: DurableRuleset | None = None
        if not conditions:  # a catalog without decompose rules: nothing can fire, and durable
            return  # takes no ruleset of no rules (it was an internal error)
        digest = hashlib.sha256(json.dumps(conditions, sort_keys=True).encode()).hexdigest()
        try:
            self.ruleset = DurableRuleset(f"om_v{TRANSLATION_VERSION}_{digest[:40]}", conditions)
        except DurableEngineError as exc:  # e.g. error 113 for some `or` of `and`s of `!=`
            raise EngineUnavailable(
                f"durable-rules cannot load this catalog's rule conditions ({exc}); "
                "decompose it with the compiled engine (--engine compiled, the default)"
            ) from exc

    def run(self, facts: Sequence[Fact], sink: Sink) -> None:
        if not facts or self.ruleset is None:
            return
        known: dict[int, Fact] = {}
        initial = [self._fact(f, known, sink) for f in facts]
        self.ruleset.run(initial, self._on_match(sink, known))

    def _on_match(
        self, sink: Sink, known: dict[int, Fact]
    ) -> Callable[[str, dict[str, Any]], Iterable[dict[str, Any]]]:
        rules = self.program.rules

        def on_match(rule_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
            fact = known[data[_KEY]]
            produced = sink.produce(fact, rules[int(rule_id)])
            return [self._fact(f, known, sink) for f in produced]

        return on_match

    def _fact(self, fact: Fact, known: dict[int, Fact], sink: Sink) -> dict[str, Any]:
        """The durable form of a fact, with the conditions durable cannot test precomputed."""
        known[fact.key] = fact
        data: dict[str, Any] = {_PRODUCT: fact.product, _KEY: fact.key}
        shape = self.shapes.get(fact.product)
        if shape is None:
            return data
        env = fact.env
        for name, root, attr in shape.fields:
            scope = env.get(root)
            value = scope.get(attr) if isinstance(scope, dict) else None
            if value is not None:
                data[name] = value
        for rule in shape.precomputed:
            data[f"c{rule.index}"] = _precompute(rule, fact, sink)
        return data


def _precompute(rule: CompiledRule, fact: Fact, sink: Sink) -> bool:
    assert rule.when is not None
    try:
        return bool(rule.when(fact.env))
    except EvalError as exc:
        sink.failed(RuleFailed(fact, rule, "the condition", str(exc)))
        return False


def _emit(program: RuleProgram) -> tuple[dict[str, dict[str, Json]], dict[str, _Shape]]:
    """The durable conditions (rule index -> ``{"m": ...}``) and each product's fact shape."""
    conditions: dict[str, dict[str, Json]] = {}
    fields: dict[str, dict[str, tuple[str, str]]] = {}
    precomputed: dict[str, list[CompiledRule]] = {}
    sources = _sources(program)
    for rule in program.rules:
        products = sources.get(rule.index, [])
        if not products:
            continue
        test, reads, precompute = _condition(rule)
        for product in products:
            fields.setdefault(product, {}).update(reads)
            if precompute:
                precomputed.setdefault(product, []).append(rule)
        match = _product_test(products)
        conditions[str(rule.index)] = {"m": match if test is None else {"$and": [match, test]}}
    shapes = {
        product: _Shape(
            tuple(
                (name, root, attr) for name, (root, attr) in sorted(fields.get(product, {}).items())
            ),
            tuple(precomputed.get(product, [])),
        )
        for product in sorted({*fields, *precomputed})
    }
    return conditions, shapes


def _sources(program: RuleProgram) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for product, rules in program.by_product.items():
        for rule in rules:
            out.setdefault(rule.index, []).append(product)
    return {index: sorted(products) for index, products in out.items()}


def _condition(rule: CompiledRule) -> tuple[Json | None, dict[str, tuple[str, str]], bool]:
    """The durable test of a rule's condition, the fields it reads, and whether the fact must
    carry the precomputed result instead."""
    if rule.rule.when is None:
        return None, {}, False
    translation = translate(rule.rule.when)
    if translation is None:
        return {f"c{rule.index}": True}, {}, True
    return translation.expr, translation.fields, False


def _product_test(products: list[str]) -> Json:
    tests: list[Json] = [{_PRODUCT: p} for p in products]
    return tests[0] if len(tests) == 1 else {"$or": tests}
