"""Decomposition semantics that goldens do not pin on their own: inputs, hooks, errors,
determinism, threads, the garbage-collector pause and the output models."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from decomposition_support import (
    ACME,
    EXAMPLE_ORDERS,
    FAMILY,
    LAB,
    REPO,
    catalog_at,
    decomposer,
    engines,
)

from om_dsl import decompose
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError
from om_dsl.orders.decompose import Decomposer, decomposer_for
from om_dsl.orders.limits import Limits
from om_dsl.orders.models import Decomposition, FulfillmentLine, Relationship
from om_dsl.orders.trusted import blank_maker
from om_dsl.rules.engine import EngineUnavailable

SAMPLE = EXAMPLE_ORDERS / "tmf622-product-order.json"


def test_trusted_models_equal_validated_ones() -> None:
    result = decompose(catalog_at(ACME), (EXAMPLE_ORDERS / "home-trio-tv.json").read_text())
    assert Decomposition.model_validate_json(result.model_dump_json()) == result


def test_lines_are_whole_models_with_dicts_of_their_own() -> None:
    """Lines are written into their instance's own ``__dict__`` (``blank_maker``): each must
    still be a complete model, equal to its validated copy, with fields in declaration order,
    and writing one line's dict must not show in another's (the dicts share only their keys)."""
    result = decompose(catalog_at(ACME), (EXAMPLE_ORDERS / "home-trio-tv.json").read_text())
    lines = result.lines()
    assert len(lines) > 2
    for line in lines:
        assert list(vars(line)) == list(FulfillmentLine.model_fields)
        assert line.model_fields_set == set(FulfillmentLine.model_fields)
        assert FulfillmentLine.model_validate_json(line.model_dump_json()) == line
        assert repr(FulfillmentLine.model_validate(vars(line))) == repr(line)
    first, second = lines[0], lines[1]
    before = second.model_dump()
    vars(first)["wait"] = "after_parent"
    assert second.model_dump() == before


def test_blank_maker_instances_need_every_field() -> None:
    make = blank_maker(Relationship)
    link, fields = make()
    assert fields is vars(link) and fields == {}
    fields["type"] = "reliesOn"
    fields["id"] = "a"
    other, other_fields = make()
    other_fields["type"] = "bundles"
    other_fields["id"] = "b"
    assert link == Relationship(type="reliesOn", id="a")
    assert other == Relationship(type="bundles", id="b")


def test_order_may_be_text_bytes_data_or_an_order() -> None:
    d = decomposer(ACME, "compiled")
    text = SAMPLE.read_text()
    expected = d.decompose(text)
    assert d.decompose(text.encode()) == expected
    assert d.decompose(json.loads(text)) == expected
    assert d.decompose(d.read(text)) == expected


def test_the_facade_caches_per_catalog_and_engine() -> None:
    catalog = catalog_at(ACME)
    assert decomposer_for(catalog) is decomposer_for(catalog)
    assert decomposer_for(catalog, "compiled") is not decomposer_for(catalog_at(LAB), "compiled")


def test_tmf_matching_by_names_and_order_level_fields() -> None:
    order = json.loads(SAMPLE.read_text())
    order["productOrderItem"][1]["productOffering"] = {"name": "TMF Mobile Telephony"}
    order["productOrderItem"][2]["productOffering"] = {"name": "TariffPlan"}
    del order["productOrderItem"][3]["productOffering"]
    order["productOrderItem"][3]["product"]["productSpecification"] = {"name": "Coverage"}
    valid = decomposer(ACME, "compiled").read(order)
    assert [i.product for i in valid.items] == [
        "TMF25",
        "MobileTelephony",
        "TariffPlan",
        "CoverageOptions",
    ]
    assert (valid.account, valid.customer, valid.external_id) == ("1513", "ff55-hjy4", "PO-456")
    assert valid.items[1].attributes == {"msisdn": "415 279 7439"}  # by alias TEL_MSISDN


def test_quantity_makes_one_line_per_unit() -> None:
    order = {"id": "q", "items": [{"id": "v", "product": "HomeVoice", "quantity": 3}]}
    lines = decompose(catalog_at(ACME), order).lines()
    assert [line.id for line in lines if line.product == "VoiceService"] == [
        "v[1]/VoiceService",
        "v[2]/VoiceService",
        "v[3]/VoiceService",
    ]


class Installed:
    def __init__(self, lines: Mapping[tuple[str | None, str], Mapping[str, Any]]) -> None:
        self.lines = lines

    def account_line(self, account: str | None, product: str) -> Mapping[str, Any] | None:
        return self.lines.get((account, product))


@pytest.mark.parametrize("engine", engines())
def test_installed_account_lines_are_not_added_again(engine: str) -> None:
    order = {"id": "i", "account": "1513", "items": [{"id": "t", "product": "TariffPlan"}]}
    d = decomposer(ACME, engine)
    fresh = {line.product: line for line in d.decompose(order).lines()}
    assert fresh["CustomerAccount"].action == "add"
    installed = Installed({("1513", "CustomerAccount"): {"account": "1513"}})
    known = {line.product: line for line in d.decompose(order, installed).lines()}
    assert known["CustomerAccount"].action == "noChange"
    moved = Installed({("1513", "CustomerAccount"): {"account": "old"}})
    with pytest.raises(DecompositionError) as caught:  # merge same: installed vs order
        d.decompose(order, moved)
    assert "the installed base" in caught.value.issues[0].message


BROKEN = """
catalog "B" version "1"
offer P { attribute n: int default 0 }
cfs T { attribute x: decimal required }
plan T on * { milestone done }
decompose P {
  -> T as by_zero { x = 10 / n }
  -> T as guarded when n != 0 and 10 / n > 1 { x = n }
  -> T as failing when 10 / n > 1 { x = n }
}
"""


def test_failing_conditions_and_mappings_are_all_reported_alike() -> None:
    catalog = compile_catalog("b.om", BROKEN).raise_on_error()
    order = {"id": "b", "items": [{"id": "p1", "product": "P"}, {"id": "p2", "product": "P"}]}
    reports = []
    for engine in engines():
        with pytest.raises(DecompositionError) as caught:
            Decomposer(catalog, engine).decompose(order)
        reports.append([i.to_dict() for i in caught.value.issues])
    issues = reports[0]
    assert all(r == issues for r in reports)
    assert [(i["code"], i["path"]) for i in issues] == [("D002", "items[0]")] * 2 + [
        ("D002", "items[1]")
    ] * 2
    assert "rule by_zero" in issues[0]["message"] and "on item 'p1'" in issues[0]["message"]
    assert "the condition failed: division by zero" in issues[1]["message"]


def test_a_null_required_attribute_is_an_error() -> None:
    text = BROKEN.replace("x = 10 / n", "x = if n > 0 then n else null").split("  -> T as g")[0]
    d = Decomposer(compile_catalog("b.om", text + "}\n").raise_on_error())
    with pytest.raises(DecompositionError) as caught:
        d.decompose({"id": "b", "items": [{"id": "p1", "product": "P"}]})
    assert caught.value.issues[0].code == "D003"
    assert "required attribute 'x' is null" in caught.value.issues[0].message


def test_every_problem_of_a_line_is_in_its_d003() -> None:
    text = (
        'catalog "D" version "1"\n'
        "offer P { attribute a: int default 50  attribute s: string }\n"
        "resource T { attribute r: string required attribute k: int in 0..10 }\n"
        "decompose P -> T { k = a; r = s }\n"
    )
    d = Decomposer(compile_catalog("d.om", text).raise_on_error())
    with pytest.raises(DecompositionError) as caught:
        d.decompose({"id": "o", "items": [{"id": "1", "product": "P"}]})
    assert [i.message for i in caught.value.issues] == [
        "line 1/T (rule P->T): required attribute 'r' is null; k: 50 is outside 0..10"
    ]


def test_unknown_engine() -> None:
    with pytest.raises(EngineUnavailable, match="choose one of: compiled, durable"):
        Decomposer(catalog_at(ACME), "drools")


def test_gc_is_resumed_after_success_and_failure() -> None:
    assert gc.isenabled()
    decompose(catalog_at(ACME), SAMPLE.read_bytes())
    assert gc.isenabled()
    with pytest.raises(DecompositionError):
        decompose(
            catalog_at(LAB),
            (REPO / "tests/fixtures/orders/golden/lab-site-conflict.json").read_bytes(),
        )
    assert gc.isenabled()


def test_threads_share_a_decomposer() -> None:
    d = decomposer(ACME, "compiled")
    orders = sorted(EXAMPLE_ORDERS.glob("*.json"))
    expected = [d.decompose(p.read_bytes()).model_dump_json() for p in orders]
    failures: list[str] = []

    def work() -> None:
        for _ in range(5):
            got = [d.decompose(p.read_bytes()).model_dump_json() for p in orders]
            if got != expected:
                failures.append("different output")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and gc.isenabled()


@pytest.mark.parametrize(
    ("catalog", "name"), [(LAB, "lab-merge-rules"), (FAMILY, "family-two-plans")]
)
def test_output_does_not_depend_on_the_hash_seed(catalog: Path, name: str) -> None:
    script = (
        "import sys; from om_dsl.cli import main; "
        "main(['decompose', sys.argv[1], sys.argv[2], '--engine', sys.argv[3]])"
    )
    outputs = set()
    order = REPO / f"tests/fixtures/orders/golden/{name}.json"
    for seed, engine in [("0", "compiled"), ("1", "compiled"), ("2", engines()[-1])]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(catalog), str(order), engine],
            capture_output=True, text=True, env=env, check=True, cwd=REPO,
        )  # fmt: skip
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("engine", engines())
def test_an_order_making_more_lines_than_the_limit_fails_with_d005(engine: str) -> None:
    """The units bound the lines only through the catalog: ``max_lines`` bounds what one valid
    order can cost, on either engine, and the order fails once (at the item whose line would
    pass it), with nothing returned."""
    catalog = catalog_at(ACME)
    text = (EXAMPLE_ORDERS / "home-duo-add.json").read_text()
    made = len(Decomposer(catalog, engine).decompose(text).lines())
    assert made > 3
    assert len(Decomposer(catalog, engine, Limits(max_lines=made)).decompose(text).lines()) == made
    with pytest.raises(DecompositionError) as failed:
        Decomposer(catalog, engine, Limits(max_lines=3)).decompose(text)
    assert [(i.code, i.path) for i in failed.value.issues] == [("D005", "items[0].children[1]")]
    assert "more than 3 technical lines" in failed.value.issues[0].message


def test_the_line_limit_stops_the_work_at_the_limit() -> None:
    """Nothing more is made once the limit is reached: a chained catalog that multiplies
    its lines stops at the limit instead of making them all."""
    source = """catalog "Fan" version "1"
offer Box "Box" { attribute n: int default 1 }
cfs A { attribute n: int }
cfs B { attribute n: int }
cfs C { attribute n: int }
decompose Box { -> A { n = n } -> A { n = n + 1 } -> A { n = n + 2 } }
decompose A -> B { n = n }
decompose A -> B { n = n * 2 }
decompose B -> C { n = n }
decompose B -> C { n = n * 3 }
"""
    catalog = compile_catalog("fan.om", source).raise_on_error()
    order = {"id": "o", "items": [{"id": f"i{k}", "product": "Box"} for k in range(50)]}
    assert len(Decomposer(catalog).decompose(order).lines()) == 50 * (3 + 6 + 12)
    limited = Decomposer(catalog, limits=Limits(max_lines=100))
    full_peak = _peak(lambda: Decomposer(catalog).decompose(order))
    with pytest.raises(DecompositionError) as failed:
        limited.decompose(order)
    assert [i.code for i in failed.value.issues] == ["D005"]
    limited_peak = _peak(lambda: _failing(limited, order))
    assert limited_peak * 3 < full_peak  # 100 lines made, not 1,050


def _peak(call: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _failing(decomposer_: Decomposer, order: Any) -> None:
    with pytest.raises(DecompositionError):
        decomposer_.decompose(order)


def test_a_compile_result_given_for_the_catalog_is_said_at_once() -> None:
    """The commonest slip of a host: the result of compile_catalog, not its IR.  It failed
    inside with "'CompileResult' object has no attribute 'content_hash'"."""
    result = compile_catalog(ACME)
    order = (EXAMPLE_ORDERS / "home-duo-add.json").read_bytes()
    for call in (lambda: decompose(result, order), lambda: Decomposer(result)):  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"not the CompileResult of compile_catalog: give "):
            call()
    with pytest.raises(TypeError, match=r"catalog must be a Catalog .* not str 'acme.om'"):
        decompose("acme.om", order)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", engines())
def test_a_catalog_without_decompose_rules_decomposes_into_no_lines(
    engine: str, tmp_path: Path
) -> None:
    """Offers and bundles, no rules yet (a catalog being written): the durable engine was an
    internal error, durable taking no ruleset of no rules."""
    path = tmp_path / "bare.om"
    path.write_text('catalog "Bare" version "1"\noffer A { attribute x: int default 1 }\n')
    result = decompose(
        catalog_at(path), {"id": "e", "items": [{"id": "a", "product": "A"}]}, engine=engine
    )
    assert [(r.id, r.lines) for r in result.requests] == [("fr:a", [])]


def test_hooks_that_are_not_hooks_say_what_to_give() -> None:
    """A host's slips failed deep inside, as AttributeErrors, and some only for orders that
    use them: the installed base's data where its hook goes (account lines only), limits as a
    dict of settings (the first order), a dict for the inventory."""
    catalog = catalog_at(ACME)
    sample = SAMPLE.read_text()
    data = {"1513": {"CustomerAccount": {"account": "1513"}}}
    with pytest.raises(TypeError, match=r"installed_base must be .*read_installed_lines"):
        decompose(catalog, sample, installed_base=data)
    with pytest.raises(TypeError, match="inventory must be a ProductInventory"):
        decompose(catalog, sample, inventory={"p1": {}})
    with pytest.raises(TypeError, match=r"limits must be a Limits .*not dict"):
        Decomposer(catalog, limits={"max_items": 10})  # type: ignore[arg-type]
