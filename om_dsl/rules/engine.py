"""The one interface both rule engines implement, and the choice between them.

An engine decides *which rule fires for which source*, nothing else: it is handed facts (order
items and produced lines, with their attributes) and calls ``sink.produce(fact, rule)`` for every
rule that matches.  ``produce`` (shared code) computes the line and returns the new facts it
made, which the engine must match in turn (technical -> technical chains).  Merging, actions,
ids and fulfillment requests are shared code too, so the two engines can only differ in
matching, and every golden test checks that they do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from om_dsl.errors import OmError
from om_dsl.rules.program import CompiledRule

EngineName = Literal["compiled", "durable"]
ENGINES: tuple[EngineName, ...] = ("compiled", "durable")


@dataclass(eq=False, slots=True)
class Fact:
    """A source the rules are matched against: an order item unit or a produced line.

    Attributes:
        key: Unique within one decomposition (also the durable fact id).
        product: The product name the rules are indexed by.
        env: What expressions read: ``source`` (the attributes) and ``order``; and
            ``bundle``, the values of the item's bundle, when a rule reads it.
        origin: Shared-code bookkeeping (which item or line this is); engines ignore it.
    """

    key: int
    product: str
    env: dict[str, Any]
    origin: Any = field(default=None)

    # Written out (the dataclass keeps it): a C constructor when compiled, see om_dsl.syntax.ast.
    def __init__(self, key: int, product: str, env: dict[str, Any], origin: Any = None) -> None:
        self.key = key
        self.product = product
        self.env = env
        self.origin = origin

    @property
    def attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = self.env["source"]
        return attrs


class Sink(Protocol):
    """Where an engine reports what fired (shared code behind it builds the lines)."""

    def produce(self, fact: Fact, rule: CompiledRule) -> Sequence[Fact]:
        """``rule`` fired for ``fact``; returns the new facts to match in turn."""
        ...

    def failed(self, failure: RuleFailed) -> None:
        """A condition could not be evaluated: the rule does not fire, the order fails."""
        ...


class RuleEngine(Protocol):
    """Matches facts against a program's rules (see the module docstring)."""

    name: EngineName

    def run(self, facts: Sequence[Fact], sink: Sink) -> None: ...


class EngineUnavailable(OmError):
    """The chosen engine cannot run here (e.g. durable-rules on Python 3.13+)."""


class RuleFailed(OmError):
    """A rule's condition or mapping failed for one fact (e.g. a division by zero).

    Engines report it for conditions (``sink.failed``), shared code for mappings; every failure
    of an order is collected, and the decomposition ends with one
    :class:`~om_dsl.errors.DecompositionError` that names each item and rule.
    """

    def __init__(self, fact: Fact, rule: CompiledRule, what: str, cause: str) -> None:
        self.fact = fact
        self.rule = rule
        self.what = what
        self.cause = cause
        super().__init__(f"rule {rule.id}: {what} failed: {cause}")
