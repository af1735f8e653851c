"""The cycle finder shared by bundle, decomposition and dependency checks."""

from __future__ import annotations

from om_dsl.graphs import find_cycles


def test_acyclic_graph_has_no_cycles() -> None:
    assert find_cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []


def test_self_loop() -> None:
    assert find_cycles({"a": ["a"]}) == [["a", "a"]]


def test_cycle_is_closed_and_starts_where_it_was_entered() -> None:
    assert find_cycles({"x": ["a"], "a": ["b"], "b": ["c"], "c": ["a"]}) == [["a", "b", "c", "a"]]


def test_separate_cycles_are_each_reported_once() -> None:
    graph = {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["a", "c"]}
    assert find_cycles(graph) == [["a", "b", "a"], ["c", "d", "c"]]


def test_successors_missing_from_the_graph_are_leaves() -> None:
    assert find_cycles({"a": ["zzz"]}) == []


def test_order_follows_the_graph_not_hashing() -> None:
    first = find_cycles({"b": ["a"], "a": ["b"]})
    second = find_cycles({"a": ["b"], "b": ["a"]})
    assert first == [["b", "a", "b"]]
    assert second == [["a", "b", "a"]]


def test_long_chain_does_not_hit_the_recursion_limit() -> None:
    n = 50_000
    graph = {i: [i + 1] for i in range(n)}
    graph[n] = [0]
    (cycle,) = find_cycles(graph)
    assert len(cycle) == n + 2
    assert cycle[0] == cycle[-1] == 0
