"""The durable translation of conditions means exactly what the compiled closures mean.

Each condition below is compiled from DSL text, translated for durable (or, when durable cannot
say it, marked for precomputation), and then both engines judge the same random facts:
durable through the real adapter, the closure directly.  Null (absent) values are drawn often,
because that is where a naive translation goes wrong (``!=`` and ``not``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from om_dsl.compiler.driver import compile_catalog
from om_dsl.expr.evaluate import compile_expr
from om_dsl.ir import models as ir
from om_dsl.rules.durable_adapter import DurableRuleset, durable_available
from om_dsl.rules.durable_conditions import MAX_DNF_TERMS, dnf_terms, fact_field, translate

TRANSLATED = [
    "n > 5",
    "n >= 5 and n < 50",
    "n == 7 or d <= 2.5",
    "not (n > 5)",
    "not (n != 3)",
    "n != 3",
    's == "x"',
    's != "x"',
    "b",
    "not b",
    "not (b and n > 5)",
    'not (b or s == "y")',
    "5 < n",
    "e == Gold",
    "e != Gold and not b",
    "order.vip",
    'order.region == "north" or n <= 0',
    "b == true",
    "b != false",
    " or ".join(f"n == {i}" for i in range(40)),  # a long chain: one flat $or
    " and ".join(f"n != {i}" for i in range(8)),  # 2^8 alternatives once durable expands it
]
PRECOMPUTED = [
    # 2^12 alternatives: past MAX_DNF_TERMS (durable rejects 2^14 and then crashes)
    " and ".join(f"n != {i}" for i in range(12)),
    "n * 2 > 10",
    's < "m"',
    'contains(coalesce(tags, []), "red")',
    "e in [Gold, Silver]",
    "n > d",
    'len(coalesce(s, "")) > 1',
]

CATALOG = """
catalog "C" version "1"
enum Tier { Bronze, Silver, Gold }
order {
  attribute vip: bool
  attribute region: string
}
offer P {
  attribute n: int
  attribute d: decimal
  attribute s: string
  attribute b: bool
  attribute e: Tier
  attribute tags: list[string]
}
cfs T { attribute x: int }
plan T on * { milestone done }
decompose P {
%s
}
"""


def _conditions() -> list[Any]:
    rules = "\n".join(f"  -> T when {c}" for c in TRANSLATED + PRECOMPUTED)
    result = compile_catalog("c.om", CATALOG % rules)
    catalog = result.raise_on_error()
    return [rule.when for rule in catalog.rules]


CONDITIONS = _conditions()


def test_the_subset_is_translated_and_the_rest_is_not() -> None:
    for text, cond in zip(TRANSLATED + PRECOMPUTED, CONDITIONS, strict=True):
        assert (translate(cond) is not None) == (text in TRANSLATED), text


VALUES = {
    "n": st.one_of(st.none(), st.integers(-10, 60)),
    "d": st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)),
    "s": st.one_of(st.none(), st.sampled_from(["x", "y", "zz"])),
    "b": st.one_of(st.none(), st.booleans()),
    "e": st.one_of(st.none(), st.sampled_from(["Bronze", "Silver", "Gold"])),
}
ORDER = {"vip": st.one_of(st.none(), st.booleans()), "region": st.sampled_from(["north", "south"])}


def _ruleset() -> tuple[DurableRuleset, list[Any]]:
    translated = [c for c in CONDITIONS if translate(c) is not None]
    conditions = {str(i): {"m": translate(c).expr} for i, c in enumerate(translated)}  # type: ignore[union-attr]
    digest = hashlib.sha256(json.dumps(conditions, sort_keys=True).encode()).hexdigest()[:24]
    return DurableRuleset(f"test_conditions_{digest}", conditions), translated


@pytest.mark.skipif(not durable_available(), reason="durable-rules is not here")
@settings(max_examples=150)
@given(st.fixed_dictionaries(VALUES), st.fixed_dictionaries(ORDER))
def test_durable_agrees_with_the_closures(source: dict[str, Any], order: dict[str, Any]) -> None:
    ruleset, translated = _ruleset()
    env = {"source": source, "order": order}
    fact: dict[str, Any] = {}
    for root, values in env.items():
        for name, value in values.items():
            if value is not None:
                fact[fact_field(root, name)] = value
    fired: list[int] = []
    ruleset.run([fact], lambda rule_id, _fact: fired.append(int(rule_id)) or [])
    expected = [i for i, c in enumerate(translated) if bool(compile_expr(c)(env))]
    assert sorted(fired) == expected


def test_translation_shapes() -> None:
    by_text = dict(zip(TRANSLATED + PRECOMPUTED, CONDITIONS, strict=True))
    assert translate(by_text["n > 5"]).expr == {"$gt": {"a_n": 5}}  # type: ignore[union-attr]
    assert translate(by_text["5 < n"]).expr == {"$gt": {"a_n": 5}}  # type: ignore[union-attr]
    assert translate(by_text["n != 3"]).expr == {  # type: ignore[union-attr]
        "$or": [{"$neq": {"a_n": 3}}, {"$nex": {"a_n": 1}}]
    }
    assert translate(by_text["not b"]).expr == {  # type: ignore[union-attr]
        "$or": [{"a_b": False}, {"$nex": {"a_b": 1}}]
    }
    assert isinstance(by_text["order.vip"], ir.Ref)


def test_chains_are_flat_and_their_expansion_is_counted() -> None:
    by_text = dict(zip(TRANSLATED + PRECOMPUTED, CONDITIONS, strict=True))
    chain = translate(by_text[TRANSLATED[-2]])
    assert chain is not None and list(chain.expr) == ["$or"] and len(chain.expr["$or"]) == 40
    assert dnf_terms(chain.expr) == 40
    nested_nots = translate(by_text[TRANSLATED[-1]])
    assert nested_nots is not None and len(nested_nots.expr["$and"]) == 8
    assert dnf_terms(nested_nots.expr) == 2**8 <= MAX_DNF_TERMS
