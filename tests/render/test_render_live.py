"""The live view: states as colours, attempts and due dates, jeopardy, from the store."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from render_examples import ORDERS

from om_dsl.errors import NotFound
from om_dsl.ir.models import Catalog
from om_dsl.render import RenderError, draw_plan, live_graph, live_svg, read_live, render
from om_dsl.render.live import _ago, is_jeopardy, live_options, remaining_ms, render_live
from om_dsl.render.plan_draw import _whole_seconds
from om_dsl.render.sample_run import SampleRun, sample_run
from om_dsl.render.style import JEOPARDY, STATE_STYLES
from om_dsl.render.text import dot_id
from om_dsl.runtime.states import ItemState
from om_dsl.runtime.status import ItemStatus
from om_dsl.runtime.store.base import Store

HOUR = 3600.0


@pytest.fixture(scope="module")
def run(acme: Catalog) -> Iterator[SampleRun]:
    with sample_run(acme, ORDERS) as sample:
        yield sample


@pytest.fixture(scope="module")
def dot(run: SampleRun) -> str:
    return render(render_live(run.runtime, run.order_id, now=run.now), "dot").decode()


def _node_attrs(dot: str, item_id: str) -> str:
    match = re.search(rf'^\s*"{re.escape(dot_id(item_id))}" \[(.*)\]$', dot, re.MULTILINE)
    assert match, item_id
    return match.group(1)


def test_the_sample_run_reaches_varied_states(run: SampleRun) -> None:
    status = run.runtime.status(run.order_id)
    assert status.state == "held"
    assert status.counts == {
        "completed": 12,
        "fatally_failed": 1,
        "on_hold": 1,
        "pending": 4,
        "skipped": 2,
        "waiting": 1,
    }


def test_the_title_says_the_order_state_and_its_point_of_no_return(dot: str) -> None:
    assert "Order ORD-1004: held · point of no return reached" in dot
    assert "root item trio by order/AccessLine:activate_line: a cancel or amend is rejected" in dot
    assert "as of 2026-03-03 18:00Z" in dot


def test_every_node_has_the_colours_of_its_state(run: SampleRun, dot: str) -> None:
    for item in run.runtime.status(run.order_id).items:
        attrs = _node_attrs(dot, item.id)
        tone = STATE_STYLES[item.state].tone
        assert f'fillcolor="{tone.fill}"' in attrs, item.id
        assert f"<B>{item.state.replace('_', ' ')}</B>" in attrs, item.id


def test_the_legend_lists_all_eleven_item_states(dot: str) -> None:
    assert set(STATE_STYLES) == {s.value for s in ItemState}
    legend = dot[dot.index("cluster_legend_plan") :]
    for state, style in STATE_STYLES.items():
        assert f"{state.replace('_', ' ')}: {style.meaning}" in legend
    assert "in jeopardy: past its expected duration or due time" in legend


def test_the_late_installation_is_in_jeopardy_and_nothing_else(dot: str) -> None:
    attrs = _node_attrs(dot, "tv/TvService:install_boxes")
    assert f'color="{JEOPARDY}"' in attrs
    assert "IN JEOPARDY" in attrs
    assert "due 2026-03-03 15:00Z, 3h ago" in attrs
    assert dot.count("<B>IN JEOPARDY</B>") == 1
    assert "1 in jeopardy" in dot


def test_attempts_reasons_and_times_are_on_the_nodes(dot: str) -> None:
    refused = _node_attrs(dot, "voice[2]/VoiceService:subscribe")
    assert "attempt 2" in refused
    assert "Billing answered 409" in refused
    assert "system Billing is offline" in _node_attrs(dot, "voice[1]/VoiceService:subscribe")
    assert "done 2026-03-03 11:00Z" in _node_attrs(dot, "order/AccessLine:activate_line")


def test_every_state_gets_its_colour(run: SampleRun) -> None:
    live = read_live(run.runtime, run.order_id, run.now)
    states = list(STATE_STYLES)
    items = tuple(
        item.model_copy(update={"state": states[i % len(states)]})
        for i, item in enumerate(live.status.items)
    )
    graph = live_graph(replace(live, status=live.status.model_copy(update={"items": items})))
    text = render(draw_plan(graph, live_options()), "dot").decode()
    for item in items:
        fill = STATE_STYLES[item.state].tone.fill
        assert f'fillcolor="{fill}"' in _node_attrs(text, item.id), item.state


def _item(**fields: Any) -> ItemStatus:
    base: dict[str, Any] = dict(
        id="l:i", line_id="l", product="P", name="i", kind="auto", state="running", attempt=1,
        failures=0, deps=(), started_at=0.0, ended_at=None, due_at=None, expected_by=None,
        overdue=False, ponr=False, compensation_of=(), reason=None, outputs=None,
    )  # fmt: skip
    return ItemStatus(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "late"),
    [
        ({"state": "running", "expected_by": 10.0}, True),
        ({"state": "running", "expected_by": 200.0}, False),
        ({"state": "waiting", "due_at": 50.0}, True),
        ({"state": "ready", "expected_by": 99.0}, True),
        ({"state": "completed", "expected_by": 10.0}, False),
        ({"state": "failed", "due_at": 10.0}, False),
        ({"state": "pending"}, False),
    ],
)
def test_jeopardy_is_an_active_item_past_its_time(fields: dict[str, Any], late: bool) -> None:
    assert is_jeopardy(_item(**fields), now=100.0) is late


def test_a_store_and_its_runtime_draw_the_same_picture(run: SampleRun, dot: str) -> None:
    from_store = render_live(run.runtime.store, run.order_id, now=run.now)
    assert render(from_store, "dot").decode() == dot


def test_now_defaults_to_the_wall_clock(run: SampleRun) -> None:
    text = render(render_live(run.runtime, run.order_id), "dot").decode()
    assert f"as of {time.strftime('%Y-', time.gmtime())}" in text


def test_an_unknown_order_is_not_found(run: SampleRun) -> None:
    with pytest.raises(NotFound, match="no order NOPE"):
        render_live(run.runtime, "NOPE")


class _Forgetful:
    """A store that lost the catalog versions (e.g. a half-restored backup)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load_catalog(self, content_hash: str) -> str:
        raise KeyError(content_hash)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_missing_catalog_version_is_a_clear_error(run: SampleRun) -> None:
    store: Any = _Forgetful(run.runtime.store)
    with pytest.raises(RenderError, match="was planned with catalog sha256:"):
        render_live(store, run.order_id, now=run.now)


def test_live_svg_parses_and_names_every_item(run: SampleRun) -> None:
    data = live_svg(run.runtime, run.order_id, now=run.now)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for item in run.runtime.status(run.order_id).items:
        assert item.id.encode() in data, item.id


def test_live_collapse_keeps_jeopardy_on_the_line(run: SampleRun) -> None:
    graph = render_live(run.runtime, run.order_id, now=run.now, collapse=1)
    text = render(graph, "dot").decode()
    assert f'color="{JEOPARDY}"' in _node_attrs(text, "line:tv/TvService")
    line = _node_attrs(text, "line:order/AccessLine")
    assert "<B>completed</B>" in line  # the unused compensation does not make it pending


# ---- the critical path from now ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expect_ms", "left"),
    [
        ({"state": "running", "expected_by": 130.0}, 60_000, 30_000),
        ({"state": "waiting", "expected_by": 100.5}, 60_000, 500),
        ({"state": "running", "expected_by": 90.0}, 60_000, 0),  # late: jeopardy says so
        ({"state": "completed", "expected_by": 130.0}, 60_000, 0),
        ({"state": "skipped"}, 60_000, 0),
        ({"state": "cancelled"}, 60_000, 0),
        ({"state": "pending", "started_at": None}, 60_000, 60_000),
        ({"state": "on_hold"}, 60_000, 60_000),  # still to be done, once an operator acts
        ({"state": "pending", "started_at": None}, None, 0),
    ],
)
def test_what_is_left_of_an_item_is_its_time_to_its_expected_finish(
    fields: dict[str, Any], expect_ms: int | None, left: int
) -> None:
    assert remaining_ms(_item(**fields), expect_ms, now=100.0) == left


def _critical_edges(dot: str) -> list[str]:
    return [line.strip() for line in dot.splitlines() if "->" in line and "penwidth=3" in line]


def test_the_critical_path_from_now_runs_through_what_is_still_expected_to_take_time(
    run: SampleRun,
) -> None:
    earlier = run.now - 4 * HOUR  # the boxes were expected to take 4h; 1h of them is left then
    dot = render(render_live(run.runtime, run.order_id, now=earlier), "dot").decode()
    boxes, entitle = dot_id("tv/TvService:install_boxes"), dot_id("tv/TvService:entitle")
    red = 'color="#dc2626" fontcolor="#dc2626" penwidth=3'
    assert _critical_edges(dot) == [f'"{boxes}" -> "{entitle}" [{red}]']
    assert "critical path from now 1h over 2 items" in dot
    assert "critical path (longest by expected durations)" in dot  # in the legend


def test_nothing_is_emphasised_when_nothing_left_has_an_expected_duration(dot: str) -> None:
    # At the sample's time the boxes are late and what is left declares no duration.
    assert _critical_edges(dot) == []
    assert "critical path" not in dot


def test_small_ages_and_long_remainders_read_as_labels() -> None:
    """'0s ago' and 'critical path from now 2d 4h 9m 8s 685ms' read like a log."""
    assert _ago(12.5) == "under a minute"
    assert _ago(125) == "2m"
    assert _ago(2 * 86_400 + 4000) == "2d 1h"
    assert _whole_seconds(187_748_685) == 187_748_000
    assert _whole_seconds(250) == 250  # a plan of `expect 250ms` items keeps its figure
