"""``Store.fallout``: the items in fallout read from the rows in fallout and their plan items
alone, where ``Runtime.fallout`` read every held order's whole status (``GET /fallout`` took
0.9 s with 2,000 held orders).  It finds what the statuses say, on both stores; a host's
own store without it still lists fallout the old way; a damaged store says which order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_support import compile_text

from om_dsl.errors import NotFound
from om_dsl.ir.models import SourceSpan
from om_dsl.runtime import FalloutFilter, HandlerRegistry, MemoryStore, Runtime, SqliteStore
from om_dsl.runtime.fallout import FalloutItem, status_rows
from om_dsl.runtime.plan import OrderPlan, PlanItemInstance, PlanLine
from om_dsl.runtime.states import ItemState
from om_dsl.runtime.status import order_status, stored_plan
from om_dsl.runtime.store import sqlite as sqlite_store
from om_dsl.runtime.store.base import (
    HISTORY_MARK,
    FalloutRow,
    NewOrder,
    OrderRecord,
    Store,
    WriteBatch,
)
from om_dsl.runtime.store.sqlite import StoreError

CATALOG_HASH = "sha256:lab"
SPAN = SourceSpan(file="lab.om", line=1, col=1, end_line=1, end_col=2)
ORDER_STATES = ("held", "held", "pending", "inProgress", "completed", "assessingCancellation")
ITEM_STATES = (ItemState.FATALLY_FAILED.value,) * 3 + tuple(s.value for s in ItemState)
LINE_IDS = ("1/Line", "2/Box", "a~b/Line")
"""The last one is a client's item id with the mark of history in it: a live line all the same."""


@st.composite
def _order(draw: st.DrawFn, n: int) -> tuple[OrderRecord, OrderPlan, list[tuple[Any, ...]]]:
    """An order of live lines and of lines an amendment superseded (named as
    :mod:`om_dsl.runtime.revision` names them), its items in any state."""
    lines: list[PlanLine] = []
    for base in draw(st.lists(st.sampled_from(LINE_IDS), min_size=1, max_size=3, unique=True)):
        lines.append(PlanLine(id=base, product=base.split("/")[1], action="add", request="fr"))
        for rev in draw(st.sets(st.integers(1, 3), max_size=2)):
            lines.append(PlanLine(id=f"{base}{HISTORY_MARK}{rev}", product=lines[-1].product,
                                  action="add", request="fr", superseded=rev))  # fmt: skip
    items, rows = [], []
    for line in lines:
        for k in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(("auto", "callout", "manual")))
            items.append(PlanItemInstance(id=f"{line.id}:step{k}", line_id=line.id,
                                          request_id="fr", product=line.product,
                                          name=f"step{k}", kind=kind, span=SPAN))  # fmt: skip
            state = draw(st.sampled_from(ITEM_STATES))
            reason = draw(st.none() | st.text(max_size=8))
            attempt, failures = draw(st.integers(0, 3)), draw(st.integers(0, 3))
            rows.append((len(rows), items[-1].id, state, attempt, failures, None, None, None,
                         None, reason, None, 1))  # fmt: skip
    created = float(draw(st.integers(0, 3)))  # ties: by id then
    record = OrderRecord(f"O{n}", CATALOG_HASH, draw(st.sampled_from(ORDER_STATES)), created,
                         created, started=True)  # fmt: skip
    plan = OrderPlan(order_id=record.id, catalog_hash=CATALOG_HASH, lines=tuple(lines),
                     items=tuple(items))  # fmt: skip
    return record, plan, rows


def _orders() -> st.SearchStrategy[list[tuple[OrderRecord, OrderPlan, list[Any]]]]:
    return st.integers(0, 6).flatmap(lambda count: st.tuples(*(_order(n) for n in range(count))))


def _filled(store: Store, orders: Any) -> Store:
    new = [NewOrder(record, plan.model_dump_json(exclude_defaults=True), rows)
           for record, plan, rows in orders]  # fmt: skip
    store.apply(WriteBatch(catalogs={CATALOG_HASH: "{}"}, new_orders=new))
    return store


def _by_statuses(store: Store, order_ids: list[str]) -> list[FalloutRow]:
    """What ``Runtime.fallout`` found before ``Store.fallout``: each order's whole status."""
    return list(status_rows(order_status(store, order_id, 0.0) for order_id in order_ids))


def _stores(tmp_path: Path) -> Iterator[Store]:
    yield MemoryStore()
    yield SqliteStore(tmp_path / f"om-{len(list(tmp_path.iterdir()))}.db")


@settings(max_examples=40, deadline=None)
@given(orders=_orders())
def test_the_store_finds_what_the_statuses_say(tmp_path_factory: Any, orders: Any) -> None:
    """Held orders by creation then id, items in plan order, superseded work left out; one
    order's whatever its state; on both stores."""
    for store in _stores(tmp_path_factory.mktemp("fallout")):
        _filled(store, orders)
        held = [record.id for record in store.orders(frozenset({"held"}))]
        assert store.fallout() == _by_statuses(store, held)
        for record, _plan, _rows in orders:
            assert store.fallout(record.id) == _by_statuses(store, [record.id])
        assert store.fallout("NOPE") == []
        store.close()


LAB = """
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
cfs Box { attribute speed: int }
decompose Web { -> Line { speed = speed } -> Box { speed = speed } }
plan Line on add {
  auto configure handler "ok" undo release
  wait go event "go" after configure
  auto activate handler "billing.down" after go
  compensation auto release handler "ok"
}
plan Box on add { auto ship handler "billing.down" }
"""


def _web(order_id: str, speed: int = 100) -> dict[str, Any]:
    return {"id": order_id, "items": [{"id": "1", "product": "Web",
                                       "attributes": {"speed": speed}}]}  # fmt: skip


PATTERNS = (None, "*:step0", "a~b/*", "*~*", "2/*", "nothing")


@settings(max_examples=40, deadline=None)
@given(
    orders=_orders(),
    pattern=st.sampled_from(PATTERNS),
    product=st.sampled_from((None, "Line", "Box")),
    offset=st.integers(0, 12),
    limit=st.none() | st.integers(1, 5),
)
def test_a_page_of_fallout_is_the_slice_of_the_whole_list(
    tmp_path_factory: Any, orders: Any, pattern: str | None, product: str | None, offset: int,
    limit: int | None,
) -> None:  # fmt: skip
    """``Store.fallout_page``: the store pages it (``GET /fallout`` listed every item, then
    sliced), with the same items, order and count, superseded work left out, on both stores."""
    wanted = FalloutFilter(item_pattern=pattern, product=product)
    for store in _stores(tmp_path_factory.mktemp("fallout")):
        _filled(store, orders)
        every = [row for row in store.fallout() if wanted.matches(_item(row))]
        end = None if limit is None else offset + limit
        page = store.fallout_page(None, pattern, product, offset, limit)
        assert (page.rows, page.total) == (every[offset:end], len(every))
        if isinstance(store, SqliteStore):  # too much history to name: the whole list, cut
            with mock.patch.object(sqlite_store, "MAX_LEFT_OUT", 0):
                assert store.fallout_page(None, pattern, product, offset, limit) == page
        for record, _plan, _rows in orders:
            mine = [row for row in store.fallout(record.id) if wanted.matches(_item(row))]
            assert store.fallout_page(record.id, pattern, product, offset, limit) == (
                mine[offset:end], len(mine))  # fmt: skip
        store.close()


def _item(row: FalloutRow) -> FalloutItem:
    return FalloutItem(row.order_id, row.item_id, row.name, row.kind, row.product, None,
                       row.attempt, row.failures, row.reason)  # fmt: skip


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_page_of_fallout_reads_the_plans_of_its_orders_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """After an outage (thousands of held orders) a page read every held order's plan."""
    store = _filled(MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "om.db"),
                    [_held(n) for n in range(30)])  # fmt: skip
    read: list[str] = []
    if isinstance(store, SqliteStore):
        real_plan_items = sqlite_store._plan_items

        def plan_items(db: sqlite3.Connection, order_id: str) -> Any:
            read.append(order_id)
            return real_plan_items(db, order_id)

        monkeypatch.setattr(sqlite_store, "_plan_items", plan_items)
    else:
        assert isinstance(store, MemoryStore)
        real_fallout_of = store._fallout_of

        def fallout_of(order_id: str, *rest: Any) -> Any:
            read.append(order_id)
            return real_fallout_of(order_id, *rest)

        monkeypatch.setattr(store, "_fallout_of", fallout_of)
    page = store.fallout_page(None, None, None, 10, 3)
    assert ([row.order_id for row in page.rows], page.total) == (["O10", "O11", "O12"], 30)
    assert read == ["O10", "O11", "O12"]
    read.clear()
    assert store.fallout_page(None, "*:step0", None, 28, 5).total == 30
    assert read == ["O28", "O29"]
    store.close()


def _held(n: int) -> tuple[OrderRecord, OrderPlan, list[tuple[Any, ...]]]:
    """Held order ``O<n>`` (by creation: O0 first), one line, its first item in fallout."""
    line = PlanLine(id="1/Line", product="Line", action="add", request="fr")
    items = tuple(PlanItemInstance(id=f"1/Line:step{k}", line_id=line.id, request_id="fr",
                                   product="Line", name=f"step{k}", kind="auto", span=SPAN)
                  for k in range(2))  # fmt: skip
    rows: list[tuple[Any, ...]] = [
        (k, item.id, "fatally_failed" if k == 0 else "pending", 1, 1, None, None, None, None,
         "down" if k == 0 else None, None, 1) for k, item in enumerate(items)]  # fmt: skip
    record = OrderRecord(f"O{n}", CATALOG_HASH, "held", float(n), float(n), started=True)
    return record, OrderPlan(order_id=record.id, catalog_hash=CATALOG_HASH, lines=(line,),
                             items=items), rows  # fmt: skip


class _HostStore:
    """A host's own store, written before ``Store.fallout``."""

    def __init__(self) -> None:
        self._inner = MemoryStore()

    def __getattr__(self, name: str) -> Any:
        if name == "fallout":
            raise AttributeError(name)
        return getattr(self._inner, name)


@pytest.fixture(params=["memory", "sqlite", "host"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """Three orders on a lab catalog: O1 and O3 held (``billing.down`` has no handler), O2
    waiting for an event; then O1 amended (its line superseded)."""
    stores = {"memory": MemoryStore, "sqlite": lambda: SqliteStore(tmp_path / "om.db"),
              "host": _HostStore}  # fmt: skip
    registry = HandlerRegistry()
    registry.register("ok", lambda ctx: {"done": True})
    with Runtime(compile_text(LAB), store=stores[request.param](), handlers=registry) as found:
        for order_id in ("O1", "O2", "O3"):
            found.submit(_web(order_id))
        found.signal("go", "O1")
        found.signal("go", "O3")
        found.run_until_idle()
        yield found


def test_the_runtime_lists_the_same_fallout_whatever_the_store(runtime: Runtime) -> None:
    found = [(item.order_id, item.item_id, item.kind, item.product, item.attempt)
             for item in runtime.fallout()]  # fmt: skip
    assert found == [
        ("O1", "1/Line:activate", "auto", "Line", 1),
        ("O1", "1/Box:ship", "auto", "Box", 1),
        ("O2", "1/Box:ship", "auto", "Box", 1),
        ("O3", "1/Line:activate", "auto", "Line", 1),
        ("O3", "1/Box:ship", "auto", "Box", 1),
    ]
    assert all(item.reason == "no handler is registered for 'billing.down'"
               for item in runtime.fallout())  # fmt: skip
    narrowed = runtime.fallout(FalloutFilter(order_id="O3", item_pattern="*:activate"))
    assert [(item.order_id, item.item_id) for item in narrowed] == [("O3", "1/Line:activate")]


def test_the_runtime_pages_fallout_as_it_lists_it(runtime: Runtime) -> None:
    """``Runtime.fallout_page``: the store's page where it has one, the slice of the whole
    list on a host's store without it; the same items and counts either way."""
    ship, line = FalloutFilter(item_pattern="*:ship"), FalloutFilter(product="Line")
    for wanted in (FalloutFilter(), FalloutFilter(order_id="O3"), ship, line):
        every = runtime.fallout(wanted)
        for offset, limit in ((0, None), (0, 1), (1, 2), (4, 10), (9, 1)):
            end = None if limit is None else offset + limit
            assert runtime.fallout_page(wanted, offset, limit) == (every[offset:end], len(every))
    with pytest.raises(NotFound, match="no order NOPE"):
        runtime.fallout_page(FalloutFilter(order_id="NOPE"))


def test_an_amendment_s_history_is_left_out_and_named_with_the_mark(runtime: Runtime) -> None:
    """The amended line's work moves to ``1/Line~1``, which no fallout lists: the store reads
    the plan's lines only for a line id with :data:`HISTORY_MARK`, which the amendment gives."""
    runtime.amend("O1", _web("O1", speed=300))
    runtime.run_until_idle()
    stored = runtime.store.load_order("O1")
    assert stored is not None
    history = [line.id for line in stored_plan(stored).lines if line.superseded]
    assert history and all(HISTORY_MARK in line_id for line_id in history)
    listed = {item.item_id for item in runtime.fallout(FalloutFilter(order_id="O1"))}
    assert not any(HISTORY_MARK in item_id for item_id in listed)
    expected = _by_statuses(runtime.store, ["O1"])
    assert [(i.order_id, i.item_id) for i in runtime.fallout(FalloutFilter(order_id="O1"))] == [
        (row.order_id, row.item_id) for row in expected
    ]


def _one_held(tmp_path: Path) -> Path:
    """A store of one held order: O1, ``1/Box:ship`` in fallout."""
    registry = HandlerRegistry()
    registry.register("ok", lambda ctx: {"done": True})
    store = SqliteStore(tmp_path / "om.db")
    with Runtime(compile_text(LAB), store=store, handlers=registry) as runtime:
        runtime.submit(_web("O1"))
        runtime.run_until_idle()
    return tmp_path / "om.db"


def _damaged(tmp_path: Path, sql: str) -> SqliteStore:
    path = _one_held(tmp_path)
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()
    return SqliteStore(path)


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        ("UPDATE plans SET plan_json = '{\"items\": ['", "its plan is not valid JSON"),
        ("UPDATE plans SET plan_json = '{\"items\": []}'", "its plan has no item 4"),
        ("UPDATE plans SET plan_json = json_remove(plan_json, '$.items[4].kind')",
         "an item of its plan lacks name, kind, product, line_id"),
    ],
)  # fmt: skip
def test_a_damaged_plan_is_a_store_error_naming_the_order(
    tmp_path: Path, sql: str, said: str
) -> None:
    store = _damaged(tmp_path, sql)
    with pytest.raises(StoreError, match=f"the store is damaged: order O1: {said}"):
        store.fallout()
    with pytest.raises(StoreError, match=f"the store is damaged: order O1: {said}"):
        store.fallout_page(limit=1)  # its order is on the page
    if "not valid JSON" in said:  # SQLite's own "malformed JSON" is not what is said
        with pytest.raises(StoreError, match=f"the store is damaged: order O1: {said}"):
            store.fallout_page(product="Box", limit=1)
    store.close()


def test_a_read_only_store_lists_fallout_too(tmp_path: Path) -> None:
    """``om status``-style readers open the store read-only: the read transaction is one."""
    store = SqliteStore(_one_held(tmp_path), read_only=True)
    assert [(row.order_id, row.item_id) for row in store.fallout()] == [("O1", "1/Box:ship")]
    store.close()
