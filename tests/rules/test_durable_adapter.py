"""The hardened durable-rules adapter: matching, chaining, churn, threads, registry, errors."""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from om_dsl.rules import durable_adapter as da
from om_dsl.rules.durable_adapter import (
    MAX_SESSIONS_PER_RULESET,
    DurableEngineError,
    DurableRuleset,
    DurableUnavailable,
    allocate_distinct_hash_ids,
    durable_available,
    durable_hash,
    find_hash_collisions,
)

needs_durable = pytest.mark.skipif(
    not durable_available(),
    reason="durable-rules is not importable here (it only exists on Python < 3.13)",
)

Matches = list[tuple[str, dict[str, Any]]]


def collect(rs: DurableRuleset, facts: Iterable[dict[str, Any]]) -> Matches:
    seen: Matches = []

    def on_match(rule_id: str, fact: dict[str, Any]) -> list[dict[str, Any]]:
        seen.append((rule_id, fact))
        return []

    rs.run(facts, on_match)
    return seen


def rules_fired(rs: DurableRuleset, fact: dict[str, Any]) -> list[str]:
    return [rule_id for rule_id, _ in collect(rs, [fact])]


# ---------------------------------------------------------------------------------------------
# Hashing and the sid pool (no durable needed).


def test_durable_hash_is_fnv1a_32() -> None:
    assert durable_hash("") == 0x811C9DC5
    assert durable_hash("a") == 0xE40C292C
    assert durable_hash("foobar") == 0xBF9CF968


def test_durable_hash_sign_extends_non_ascii_bytes_like_c_char() -> None:
    # 'é' is 0xC3 0xA9: a signed C char XORs 0xFFFFFFC3, not 0xC3.
    expected = 0x811C9DC5
    for byte in "é".encode():
        expected ^= (byte - 0x100) & 0xFFFFFFFF
        expected = (expected * 0x01000193) & 0xFFFFFFFF
    assert durable_hash("é") == expected


def test_known_collisions_are_found() -> None:
    # Found by brute force; durable merges these two sessions into one.
    assert durable_hash("s31597") == durable_hash("s618190")
    assert durable_hash("f6059") == durable_hash("f264602")
    assert find_hash_collisions(["s1", "s31597", "s2", "s618190", "s1"]) == [("s31597", "s618190")]
    assert find_hash_collisions(["a", "b", "c"]) == []


def test_allocate_distinct_hash_ids_skips_colliding_candidates() -> None:
    ids = allocate_distinct_hash_ids("s", 3, avoid=["s31597"], start=618189)
    assert ids == ["s618189", "s618191", "s618192"]  # s618190 collides with s31597
    many = allocate_distinct_hash_ids("s", 5000)
    assert len(set(many)) == 5000
    assert find_hash_collisions(many) == []


@needs_durable
def test_session_pool_is_capped_and_hash_distinct(monkeypatch: pytest.MonkeyPatch) -> None:
    rs = DurableRuleset("test-pool-cap", {"r": {"m": {"x": 1}}})
    registered = rs._registered
    monkeypatch.setattr(da, "_LEASE_TIMEOUT_S", 0.05)
    sids = [registered.lease() for _ in range(MAX_SESSIONS_PER_RULESET)]
    try:
        assert len(set(sids)) == MAX_SESSIONS_PER_RULESET
        assert find_hash_collisions(sids) == []
        assert find_hash_collisions([*sids, *(f"sid-{sid}" for sid in sids)]) == []
        with pytest.raises(DurableEngineError, match="sessions stayed busy"):
            registered.lease()
    finally:
        for sid in sids:
            registered.give_back(sid, clean=True)
    assert rs.session_stats()["created"] == MAX_SESSIONS_PER_RULESET
    assert rules_fired(rs, {"x": 1}) == ["r"]


# ---------------------------------------------------------------------------------------------
# Unavailable durable.


def test_unavailable_gives_the_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(da._Process, "engine_module", None)
    monkeypatch.setattr(da._Process, "import_error", ImportError("No module named 'durable'"))
    assert durable_available() is False
    with pytest.raises(DurableUnavailable) as info:
        DurableRuleset("test-unavailable", {"r": {"m": {"x": 1}}})
    assert "only available on Python < 3.13; use --engine compiled" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Matching.


@needs_durable
def test_simple_match_and_no_match() -> None:
    rs = DurableRuleset(
        "test-simple",
        {"internet": {"m": {"$and": [{"product": "HomeInternet"}, {"$gt": {"speed": 100}}]}}},
    )
    fact = {"product": "HomeInternet", "speed": 200}
    assert collect(rs, [fact]) == [("internet", fact)]
    assert collect(rs, [{"product": "HomeInternet", "speed": 100}]) == []
    assert collect(rs, [{"product": "Mobile", "speed": 500}]) == []
    assert collect(rs, []) == []


@needs_durable
def test_on_match_receives_the_callers_object() -> None:
    rs = DurableRuleset("test-identity", {"r": {"m": {"x": 1}}})
    fact = {"x": 1, "nested": {"a": [1, 2]}}
    ((_, seen),) = collect(rs, [fact])
    assert seen is fact
    assert fact == {"x": 1, "nested": {"a": [1, 2]}}  # untouched: no sid/id/marker added


@needs_durable
def test_several_rules_per_fact_in_conditions_order() -> None:
    rs = DurableRuleset(
        "test-several",
        {
            "zeta": {"m": {"product": "P"}},
            "alpha": {"m": {"$gte": {"n": 1}}},
            "never": {"m": {"product": "Q"}},
            "mid": {"m": {"$ex": {"product": 1}}},
        },
    )
    assert rules_fired(rs, {"product": "P", "n": 3}) == ["zeta", "alpha", "mid"]
    assert rules_fired(rs, {"product": "Q", "n": 0}) == ["never", "mid"]


@needs_durable
@pytest.mark.parametrize(
    ("condition", "fact", "fires"),
    [
        ({"m": {"product": "A"}}, {"product": "A"}, True),
        ({"m": {"product": "A"}}, {"product": "a"}, False),
        ({"m": {"product": "A"}}, {"other": "A"}, False),
        ({"m": {"$lt": {"n": 5}}}, {"n": 4}, True),
        ({"m": {"$lt": {"n": 5}}}, {"n": 5}, False),
        ({"m": {"$gte": {"n": 5}}}, {"n": 5}, True),
        ({"m": {"$gte": {"n": 5}}}, {"n": 4.5}, False),
        ({"m": {"$neq": {"status": "x"}}}, {"status": "y"}, True),
        ({"m": {"$neq": {"status": "x"}}}, {"status": "x"}, False),
        ({"m": {"$ex": {"speed": 1}}}, {"speed": 0}, True),
        ({"m": {"$ex": {"speed": 1}}}, {"rate": 0}, False),
        ({"m": {"$nex": {"speed": 1}}}, {"rate": 0}, True),
        ({"m": {"$nex": {"speed": 1}}}, {"speed": 0}, False),
        ({"m": {"$or": [{"a": 1}, {"b": 2}]}}, {"b": 2}, True),
        ({"m": {"$or": [{"a": 1}, {"b": 2}]}}, {"a": 2, "b": 1}, False),
        (
            {"m": {"$and": [{"a": 1}, {"$or": [{"b": 1}, {"$lt": {"c": 0}}]}]}},
            {"a": 1, "c": -1},
            True,
        ),
        (
            {"m": {"$and": [{"a": 1}, {"$or": [{"b": 1}, {"$lt": {"c": 0}}]}]}},
            {"a": 1, "c": 1},
            False,
        ),
        ({"m": {"name": 'héllo "q"'}}, {"name": 'héllo "q"'}, True),
        ({"all": [{"m": {"a": 1}}]}, {"a": 1}, True),
        ({"any": [{"m": {"a": 1}}, {"m": {"b": 1}}]}, {"b": 1}, True),
        ({"any": [{"m": {"a": 1}}, {"m": {"b": 1}}]}, {"c": 1}, False),
        ({"m": {}}, {"anything": True}, True),
    ],
)
def test_conditions(condition: dict[str, Any], fact: dict[str, Any], fires: bool) -> None:
    name = f"test-cond-{durable_hash(repr(condition)):08x}"
    rs = DurableRuleset(name, {"r": condition})
    assert rules_fired(rs, fact) == (["r"] if fires else [])


@needs_durable
@pytest.mark.timeout(30)
def test_negative_only_condition_cannot_match_durables_state_fact() -> None:
    # Without the marker, {"$nex": ...} matches {"sid", "id": "sid-..", "$s": 1} and every
    # action re-asserts that state fact: durable loops forever.
    rs = DurableRuleset("test-nex-only", {"r": {"m": {"$nex": {"zz": 1}}}})
    assert rules_fired(rs, {"x": 1}) == ["r"]
    assert collect(rs, []) == []


@needs_durable
def test_unmatched_facts_do_not_block_the_session() -> None:
    rs = DurableRuleset("test-unmatched", {"r": {"m": {"hit": True}}})
    facts = [{"hit": i % 3 == 0, "i": i} for i in range(30)]
    assert [fact["i"] for _, fact in collect(rs, facts)] == list(range(0, 30, 3))


@needs_durable
def test_identical_facts_in_one_run_all_fire() -> None:
    rs = DurableRuleset("test-duplicates", {"r": {"m": {"x": 1}}})
    assert len(collect(rs, [{"x": 1}] * 50)) == 50


@needs_durable
def test_large_run() -> None:
    rs = DurableRuleset("test-large", {f"r{k}": {"m": {"k": k}} for k in range(10)})
    facts = [{"k": i % 12, "i": i} for i in range(5000)]
    got = collect(rs, facts)
    assert [fact["i"] for _, fact in got] == [i for i in range(5000) if i % 12 < 10]
    assert all(rule_id == f"r{fact['k']}" for rule_id, fact in got)


# ---------------------------------------------------------------------------------------------
# Forward chaining.


@needs_durable
def test_forward_chaining_breadth_first_and_deterministic() -> None:
    rs = DurableRuleset(
        "test-chaining",
        {
            "commercial": {"m": {"level": "commercial"}},
            "cfs": {"m": {"level": "cfs"}},
            "rfs": {"m": {"level": "rfs"}},
        },
    )
    trace: list[str] = []

    def on_match(rule_id: str, fact: dict[str, Any]) -> list[dict[str, Any]]:
        trace.append(f"{rule_id}:{fact['name']}")
        if rule_id == "commercial":
            return [
                {"level": "cfs", "name": fact["name"] + ".cfs1"},
                {"level": "cfs", "name": fact["name"] + ".cfs2"},
            ]
        if rule_id == "cfs":
            return [{"level": "rfs", "name": fact["name"] + ".rfs"}]
        return []

    rs.run([{"level": "commercial", "name": "A"}, {"level": "commercial", "name": "B"}], on_match)
    assert trace == [
        "commercial:A",
        "commercial:B",
        "cfs:A.cfs1",
        "cfs:A.cfs2",
        "cfs:B.cfs1",
        "cfs:B.cfs2",
        "rfs:A.cfs1.rfs",
        "rfs:A.cfs2.rfs",
        "rfs:B.cfs1.rfs",
        "rfs:B.cfs2.rfs",
    ]


@needs_durable
def test_chaining_cycle_is_bounded() -> None:
    rs = DurableRuleset("test-cycle", {"loop": {"m": {"x": 1}}})
    with pytest.raises(DurableEngineError, match="more than 100 facts"):
        rs.run([{"x": 1}], lambda rule_id, fact: [{"x": 1}], max_facts=100)
    assert rs.session_stats()["leased"] == 0
    assert rules_fired(rs, {"x": 1}) == ["loop"]


# ---------------------------------------------------------------------------------------------
# Churn, leaks, threads.


@needs_durable
@pytest.mark.timeout(240)
def test_session_churn_5000_runs() -> None:
    rs = DurableRuleset(
        "test-churn",
        {"a": {"m": {"product": "A"}}, "b": {"m": {"$gt": {"n": 2}}}},
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for run in range(5000):
        facts = [{"product": "A", "n": run % 5}, {"product": "B", "n": 3}]
        got = [rule_id for rule_id, _ in collect(rs, facts)]
        expected = ["a", "b", "b"] if run % 5 > 2 else ["a", "b"]
        assert got == expected, run
    stats = rs.session_stats()
    assert stats == {"created": 1, "free": 1, "leased": 0, "poisoned": 0}
    sid = rs._registered.all_sids[0]
    assert not da._debug_session_exists(rs.name, sid)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 50 * 1024
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


@needs_durable
@pytest.mark.timeout(240)
def test_two_threads_concurrently() -> None:
    rs = DurableRuleset(
        "test-threads",
        {
            "big": {"m": {"$gte": {"n": 50}}},
            "even": {"m": {"parity": "even"}},
            "child": {"m": {"kind": "child"}},
        },
    )
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(tag: str) -> None:
        try:
            start.wait()
            for run in range(400):
                facts: list[dict[str, Any]] = [
                    {"tag": tag, "n": (run + i) % 100, "parity": "even" if i % 2 == 0 else "odd"}
                    for i in range(5)
                ]
                seen: list[tuple[str, str, int]] = []

                def on_match(
                    rule_id: str, fact: dict[str, Any], seen: list[tuple[str, str, int]] = seen
                ) -> list[dict[str, Any]]:
                    seen.append((rule_id, fact["tag"], fact.get("n", -1)))
                    return [{"kind": "child", "tag": fact["tag"]}] if rule_id == "big" else []

                rs.run(facts, on_match)
                expected: list[tuple[str, str, int]] = []
                children = 0
                for i, fact in enumerate(facts):
                    if fact["n"] >= 50:
                        expected.append(("big", tag, fact["n"]))
                        children += 1
                    if i % 2 == 0:
                        expected.append(("even", tag, fact["n"]))
                expected += [("child", tag, -1)] * children
                assert seen == expected, (tag, run)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stats = rs.session_stats()
    assert stats["leased"] == 0
    assert stats["poisoned"] == 0
    assert 1 <= stats["created"] <= 2
    assert find_hash_collisions(rs._registered.all_sids) == []


# ---------------------------------------------------------------------------------------------
# Registry.


@needs_durable
def test_registering_the_same_name_twice_is_a_no_op() -> None:
    conditions = {"r1": {"m": {"x": 1}}, "r2": {"m": {"y": 2}}}
    first = DurableRuleset("test-registry", conditions)
    second = DurableRuleset("test-registry", {"r1": {"m": {"x": 1}}, "r2": {"m": {"y": 2}}})
    assert second._registered is first._registered
    assert rules_fired(second, {"x": 1, "y": 2}) == ["r1", "r2"]


@needs_durable
def test_a_different_definition_under_the_same_name_is_an_error() -> None:
    DurableRuleset("test-registry-conflict", {"r1": {"m": {"x": 1}}})
    with pytest.raises(DurableEngineError, match="different definition"):
        DurableRuleset("test-registry-conflict", {"r1": {"m": {"x": 2}}})
    with pytest.raises(DurableEngineError, match="different definition"):
        DurableRuleset("test-registry-conflict", {"other": {"m": {"x": 1}}})
    rs = DurableRuleset("test-registry-conflict", {"r1": {"m": {"x": 1}}})
    assert rules_fired(rs, {"x": 1}) == ["r1"]


@needs_durable
@pytest.mark.parametrize("name", ["", "has space", "a$state", "x" * 129, 'q"uote'])
def test_bad_ruleset_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="ruleset name"):
        DurableRuleset(name, {"r": {"m": {"x": 1}}})


@needs_durable
@pytest.mark.parametrize(
    "condition",
    [
        {"all": [{"m": {"x": 1}}, {"m": {"y": 1}}]},
        {"m": {"x": 1}, "pri": 1},
        {"s": {"x": 1}},
        {"m": [1, 2]},
        {"all": [{"n": {"x": 1}}]},
    ],
)
def test_bad_conditions_are_refused(condition: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="rule 'r'"):
        DurableRuleset(f"test-bad-cond-{durable_hash(repr(condition)):08x}", {"r": condition})


@needs_durable
def test_durable_rejecting_a_condition_is_a_clear_error() -> None:
    with pytest.raises(DurableEngineError, match="durable rejected ruleset"):
        DurableRuleset("test-rejected", {"r": {"m": {"$nosuchop": {"x": 1}}}})
    # The failed name was not registered: a valid definition may take it.
    assert rules_fired(DurableRuleset("test-rejected", {"r": {"m": {"x": 1}}}), {"x": 1}) == ["r"]


# ---------------------------------------------------------------------------------------------
# Errors.


@needs_durable
def test_on_match_errors_surface_after_the_run_and_the_next_run_works() -> None:
    rs = DurableRuleset("test-errors", {"a": {"m": {"x": 1}}, "b": {"m": {"$gt": {"x": 0}}}})
    calls: list[str] = []

    def on_match(rule_id: str, fact: dict[str, Any]) -> list[dict[str, Any]]:
        calls.append(f"{rule_id}{fact['x']}")
        if rule_id == "a":
            raise KeyError("missing mapping for HomeInternet")
        return []

    with pytest.raises(DurableEngineError) as info:
        rs.run([{"x": 1}, {"x": 2}, {"x": 1}], on_match)
    error = info.value
    assert calls == ["a1", "b1", "b2", "a1", "b1"]  # the run went on to the end
    assert len(error.errors) == 2
    assert all(isinstance(item, KeyError) for item in error.errors)
    assert error.__cause__ is error.errors[0]
    assert "2 error(s)" in str(error)
    assert "rule 'a' on fact #0: KeyError: 'missing mapping for HomeInternet'" in str(error)
    assert "rule 'a' on fact #2" in str(error)
    assert rs.session_stats() == {"created": 1, "free": 1, "leased": 0, "poisoned": 0}
    assert not da._debug_session_exists(rs.name, rs._registered.all_sids[0])
    assert rules_fired(rs, {"x": 1}) == ["a", "b"]


@needs_durable
@pytest.mark.parametrize(
    "fact",
    [
        {"id": "item-1"},
        {"sid": 1},
        {"om_fact": 1},
        {"$s": 1},
        {1: "x"},
        {"x": float("nan")},
        {"x": 2**70},
        {"x": object()},
        ["not", "a", "dict"],
    ],
)
def test_bad_facts_are_refused_before_anything_is_asserted(fact: Any) -> None:
    rs = DurableRuleset("test-bad-facts", {"r": {"m": {"x": 1}}})
    calls: list[str] = []

    def on_match(rule_id: str, matched: dict[str, Any]) -> list[dict[str, Any]]:
        calls.append(rule_id)
        return []

    with pytest.raises(ValueError, match="fact #1"):
        rs.run([{"x": 1}, fact], on_match)
    assert calls == []
    assert rs.session_stats()["leased"] == 0


@needs_durable
def test_bad_produced_fact_is_an_error_of_the_run() -> None:
    rs = DurableRuleset("test-bad-produced", {"r": {"m": {"x": 1}}})
    with pytest.raises(DurableEngineError, match="reserved by the durable engine"):
        rs.run([{"x": 1}], lambda rule_id, fact: [{"id": "oops", "x": 1}])
    assert rules_fired(rs, {"x": 1}) == ["r"]


@needs_durable
def test_on_match_may_run_another_ruleset() -> None:
    inner = DurableRuleset("test-nested-inner", {"leaf": {"m": {"kind": "leaf"}}})
    outer = DurableRuleset("test-nested-outer", {"root": {"m": {"kind": "root"}}})
    inner_hits: list[str] = []

    def on_root(rule_id: str, fact: dict[str, Any]) -> list[dict[str, Any]]:
        inner_hits.extend(r for r, _ in collect(inner, [{"kind": "leaf"}, {"kind": "x"}]))
        return []

    outer.run([{"kind": "root"}, {"kind": "root"}], on_root)
    assert inner_hits == ["leaf", "leaf"]


@needs_durable
def test_a_durable_failure_mid_run_still_deletes_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rs = DurableRuleset("test-durable-failure", {"r": {"m": {"x": 1}}})
    host = da._get_host()

    def broken_retract(name: str, fact: dict[str, Any]) -> None:
        raise RuntimeError("Could not retract fact, error code: 999")

    monkeypatch.setattr(host, "retract_fact", broken_retract)
    with pytest.raises(DurableEngineError, match="error code: 999"):
        collect(rs, [{"x": 1}])
    monkeypatch.undo()
    assert rs.session_stats() == {"created": 1, "free": 1, "leased": 0, "poisoned": 0}
    assert not da._debug_session_exists(rs.name, rs._registered.all_sids[0])
    assert rules_fired(rs, {"x": 1}) == ["r"]


@needs_durable
def test_a_failed_delete_state_retires_the_sid(monkeypatch: pytest.MonkeyPatch) -> None:
    rs = DurableRuleset("test-delete-failure", {"r": {"m": {"x": 1}}})
    host = da._get_host()

    def broken_delete(name: str, sid: str) -> None:
        raise RuntimeError("Could not delete state, error code: 999")

    monkeypatch.setattr(host, "delete_state", broken_delete)
    with pytest.raises(DurableEngineError, match="deleting the state of session"):
        collect(rs, [{"x": 1}])
    monkeypatch.undo()
    assert rs.session_stats() == {"created": 1, "free": 0, "leased": 0, "poisoned": 1}
    assert rules_fired(rs, {"x": 1}) == ["r"]  # on a fresh sid
    stats = rs.session_stats()
    assert stats == {"created": 2, "free": 1, "leased": 0, "poisoned": 1}
    assert find_hash_collisions(rs._registered.all_sids) == []


_NO_MATCH_SCRIPT = r"""
import json
from om_dsl import decompose
from om_dsl.compiler.driver import compile_catalog
catalog = compile_catalog("c.om", text='''catalog "M" version "1"
offer P { attribute a: int default 0 }
resource T { attribute k: int default 0 }
decompose P -> T when a != 0 { k = a }
''').raise_on_error()
for a in (0, 3, 0, 0, 5, 7, 0):
    order = json.dumps({"id": "O", "items": [{"id": "1", "product": "P", "attributes": {"a": a}}]})
    durable = decompose(catalog, order, engine="durable").model_dump_json()
    assert durable == decompose(catalog, order, engine="compiled").model_dump_json(), a
print("same")
"""


@needs_durable
def test_a_run_where_no_rule_fires_does_not_crash_and_leaves_its_session_clean() -> None:
    """durable's delete_state crashed the process (free(): invalid pointer) after a run in
    which no rule fired; the session is now given back without it, and reused.  In a child
    process: a regression must fail this test, not kill the test run."""
    run = subprocess.run(
        [sys.executable, "-c", _NO_MATCH_SCRIPT], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.strip()) == (0, "same"), run.stderr[-2000:]


@needs_durable
def test_a_catalog_durable_cannot_load_is_a_clear_error(tmp_path: Path) -> None:
    """Seven `(x != 0 and x < 5)` terms joined by `or`: durable refuses the ruleset (error
    113) although six load.  A one-line error naming the compiled engine, not an internal
    error (in a child process: durable may crash later in a process where it refused one)."""
    names = "abcdefg"
    attrs = " ".join(f"attribute {x}: int" for x in names)
    when = " or ".join(f"({x} != 0 and {x} < 5)" for x in names)
    catalog = tmp_path / "c.om"
    catalog.write_text(
        f'catalog "M" version "1"\noffer P {{ {attrs} }}\nresource T {{ attribute k: int }}\n'
        f"decompose P -> T when {when} {{ k = 1 }}\n",
        encoding="utf-8",
    )
    order = tmp_path / "o.json"
    order.write_text('{"id": "O", "items": [{"id": "1", "product": "P"}]}', encoding="utf-8")
    code = "import sys; from om_dsl.cli import main; main(sys.argv[1:])"
    run = subprocess.run(
        [sys.executable, "-c", code, "decompose", str(catalog), str(order), "--engine", "durable"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "durable-rules cannot load this catalog's rule conditions" in run.stderr
    assert "--engine compiled" in run.stderr and "internal error" not in run.stderr
