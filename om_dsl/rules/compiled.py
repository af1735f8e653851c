"""The default engine: rules as closures indexed by source product, run over a work list.

Pure Python, no global state: a :class:`CompiledEngine` holds only the immutable program, so
one instance may serve many threads at once.  Rules carry no action filter in the IR; what an
order item's action means for its lines is decided by shared code (see
:mod:`om_dsl.orders.decompose`), so the index is by product alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from om_dsl.expr.evaluate import EvalError
from om_dsl.rules.engine import EngineName, Fact, RuleFailed, Sink
from om_dsl.rules.program import RuleProgram


class CompiledEngine:
    name: EngineName = "compiled"

    def __init__(self, program: RuleProgram) -> None:
        self.program = program

    def run(self, facts: Sequence[Fact], sink: Sink) -> None:
        queue = deque(facts)
        by_product = self.program.by_product
        produce = sink.produce
        while queue:
            fact = queue.popleft()
            env = fact.env
            for rule in by_product.get(fact.product, ()):
                when = rule.when
                if when is not None:
                    try:
                        fires = when(env)
                    except EvalError as exc:
                        sink.failed(RuleFailed(fact, rule, "the condition", str(exc)))
                        continue
                    if not fires:
                        continue
                produced = produce(fact, rule)
                if produced:  # most rules chain nothing: no call for an empty extend
                    queue.extend(produced)
