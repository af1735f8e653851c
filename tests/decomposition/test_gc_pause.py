"""Decomposing pauses the garbage collector, leaves no collection pending, and respects a
host's frozen objects (``om_dsl/orders/gc_pause.py``)."""

from __future__ import annotations

import gc

from decomposition_support import ACME, EXAMPLE_ORDERS, catalog_at, decomposer

from om_dsl.orders.decompose import Decomposer

ORDER = (EXAMPLE_ORDERS / "home-duo-add.json").read_bytes()


def test_no_young_collection_is_left_for_the_host() -> None:
    gc.collect()
    assert gc.isenabled()
    decomposer(ACME, "compiled").decompose(ORDER)
    assert gc.isenabled()
    assert gc.get_count()[0] < gc.get_threshold()[0]  # the survivors went to the old generation


def test_the_collector_stays_off_if_the_host_turned_it_off() -> None:
    gc.disable()
    try:
        decomposer(ACME, "compiled").decompose(ORDER)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_a_host_froze_stay_frozen() -> None:
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        decomposer(ACME, "compiled").decompose(ORDER)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_building_a_decomposer_runs_no_collection() -> None:
    """Its tables and closures all survive: a collector running during the build re-scanned
    them again and again (the build grew with the square of the catalog)."""
    collections: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(phase)

    gc.collect()
    gc.callbacks.append(watch)
    try:
        Decomposer(catalog_at(ACME))
    finally:
        gc.callbacks.remove(watch)
    assert collections == [] and gc.isenabled()
    assert gc.get_count()[0] < gc.get_threshold()[0]


def test_a_decomposer_built_without_the_pause_collects_as_usual() -> None:
    collections: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(phase)

    gc.collect()
    threshold = gc.get_threshold()
    gc.set_threshold(10)  # a collection every few allocations: the build makes thousands
    gc.callbacks.append(watch)
    try:
        Decomposer(catalog_at(ACME), pause_gc=False)
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*threshold)
    assert collections
