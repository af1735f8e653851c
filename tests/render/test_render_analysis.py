"""Critical path, beyond-PONR and ordering logic on small hand-made graphs."""

from __future__ import annotations

import itertools

import pytest

from om_dsl.render.analysis import beyond_return, deepest, schedule, topological_order
from om_dsl.render.errors import RenderError

MIN = 60_000


def test_critical_path_follows_the_longest_durations() -> None:
    #   a(1) -> b(5) -> d(1)
    #   a(1) -> c(2) -> d(1)
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]
    result = schedule(nodes, edges, {"a": 1 * MIN, "b": 5 * MIN, "c": 2 * MIN, "d": 1 * MIN})
    assert result.path == ("a", "b", "d")
    assert result.total_ms == 7 * MIN
    assert result.finish_ms == {"a": 1 * MIN, "b": 6 * MIN, "c": 3 * MIN, "d": 7 * MIN}
    assert result.start_ms["d"] == 6 * MIN
    assert result.path_edges() == {("a", "b"), ("b", "d")}


def test_missing_durations_count_as_zero() -> None:
    result = schedule(["a", "b", "c"], [("a", "b"), ("a", "c")], {"c": 10})
    assert result.path == ("a", "c")
    assert result.total_ms == 10
    assert result.finish_ms["b"] == 0


def test_without_durations_the_longest_chain_wins() -> None:
    nodes = ["x", "a", "b", "c"]
    result = schedule(nodes, [("a", "b"), ("b", "c")], {})
    assert result.path == ("a", "b", "c")
    assert result.total_ms == 0


def test_ties_go_to_the_first_node_listed() -> None:
    result = schedule(["a", "b", "c"], [("a", "c"), ("b", "c")], {"a": 5, "b": 5})
    assert result.path == ("a", "c")
    reordered = schedule(["b", "a", "c"], [("a", "c"), ("b", "c")], {"a": 5, "b": 5})
    assert reordered.path == ("b", "c")


def test_parallel_branches_end_at_the_latest_finish() -> None:
    nodes = ["a", "b", "c", "d"]
    result = schedule(nodes, [("a", "b"), ("c", "d")], {"a": 1, "b": 1, "c": 5, "d": 0})
    assert result.path == ("c", "d")
    assert result.total_ms == 5


def test_edges_to_unknown_nodes_and_duplicates_are_ignored() -> None:
    result = schedule(["a", "b"], [("a", "b"), ("a", "b"), ("zz", "b")], {"a": 1, "b": 1})
    assert result.path == ("a", "b")
    assert result.total_ms == 2


def test_empty_graph() -> None:
    result = schedule([], [], {})
    assert result.path == ()
    assert result.total_ms == 0
    assert deepest([], []) is None


def test_a_cycle_is_an_error_that_names_its_nodes() -> None:
    with pytest.raises(RenderError, match="cycle through: b, c"):
        topological_order(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")])


def test_topological_order_keeps_the_listed_order_among_ready_nodes() -> None:
    assert topological_order(["c", "b", "a"], [("a", "b")]) == ["c", "a", "b"]


def test_beyond_return_is_the_ponr_item_and_everything_after_it() -> None:
    #   a -> p(PONR) -> b -> c ;  a -> d (parallel, not after p)
    nodes = ["a", "p", "b", "c", "d"]
    edges = [("a", "p"), ("p", "b"), ("b", "c"), ("a", "d")]
    assert beyond_return(nodes, edges, ["p"]) == ["p", "b", "c"]


def test_beyond_return_with_several_ponr_items_and_none() -> None:
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("c", "d")]
    assert beyond_return(nodes, edges, ["d", "a"]) == ["a", "b", "d"]
    assert beyond_return(nodes, edges, []) == []
    assert beyond_return(nodes, edges, ["not-a-node"]) == []


def test_beyond_return_survives_a_diamond_and_a_cycle() -> None:
    nodes = ["p", "x", "y", "z"]
    edges = [("p", "x"), ("p", "y"), ("x", "z"), ("y", "z"), ("z", "x")]
    assert beyond_return(nodes, edges, ["p"]) == ["p", "x", "y", "z"]


def test_deepest_is_the_end_of_the_longest_chain() -> None:
    assert deepest(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "d")]) == "c"
    assert deepest(["a", "b"], []) == "a"
    assert deepest(["a", "b"], [("a", "b"), ("b", "a")]) == "b"


def test_a_two_thousand_item_chain_is_fast_and_exact() -> None:
    nodes = [f"n{i}" for i in range(2000)]
    edges = list(itertools.pairwise(nodes))
    result = schedule(nodes, edges, dict.fromkeys(nodes, 2))
    assert result.total_ms == 4000
    assert len(result.path) == 2000
