"""Choosing a rule engine by name (``om decompose --engine``, ``decompose(engine=...)``)."""

from __future__ import annotations

from om_dsl.rules.compiled import CompiledEngine
from om_dsl.rules.engine import ENGINES, EngineUnavailable, RuleEngine
from om_dsl.rules.program import RuleProgram


def make_engine(name: str, program: RuleProgram) -> RuleEngine:
    """The engine called ``name`` for ``program``.

    Raises:
        EngineUnavailable: an unknown name, or ``durable`` where durable-rules cannot run.
    """
    if name == "compiled":
        return CompiledEngine(program)
    if name == "durable":
        # Imported here: only this engine needs durable-rules, which may be missing (3.13+).
        from om_dsl.rules.durable_engine import DurableEngine  # noqa: PLC0415

        return DurableEngine(program)
    raise EngineUnavailable(f"unknown rule engine '{name}'; choose one of: {', '.join(ENGINES)}")
