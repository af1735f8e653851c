"""Completing an item by hand must give the outputs later items read.

An operator's probe completed a fallen-out ``reserve_port`` with ``{"portid": "P-1"}`` (a typo
of ``port_id``); the activation, past the point of no return, then went to the network with
``port_id: null``.  ``om complete`` and ``POST .../complete`` default to no outputs at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import compile_text, decomposition, line

from om_dsl.errors import OperatorActionRejected
from om_dsl.runtime import HandlerRegistry, ItemContext, PermanentFailure, Runtime

CATALOG = """
queue field "Field"
cfs Access { attribute site: string }
cfs Voice { attribute site: string }
plan Access on add {
  auto reserve handler "reserve" retry none
  auto activate handler "activate" after reserve when reserve.port_id != null
  manual survey queue field
  auto report handler "activate" after survey when survey.meters > 0
}
plan Voice on add { auto attach handler "activate" when Access.reserve.vlan != "none" }
depend Voice.attach after Access.reserve
"""


def runtime(text: str = CATALOG) -> tuple[Runtime, dict[str, Any]]:
    seen: dict[str, Any] = {}
    handlers = HandlerRegistry()

    @handlers.handler("reserve")
    def reserve(ctx: ItemContext) -> None:
        raise PermanentFailure("inventory answered 422")

    @handlers.handler("activate")
    def activate(ctx: ItemContext) -> None:
        seen[ctx.item_id] = dict(ctx.products.get("Access", {}).get("reserve") or {})

    catalog = compile_text(text)
    lines = [line("A", "Access", site="S1"), line("V", "Voice", site="S1")]
    run = Runtime(catalog, handlers=handlers)
    run.submit(decomposition("O1", catalog, lines))
    run.run_until_idle()
    return run, seen


def test_outputs_that_later_items_read_are_required_and_a_typo_is_named() -> None:
    run, seen = runtime()
    assert run.status("O1").item("A:reserve").state == "fatally_failed"
    with pytest.raises(OperatorActionRejected) as refused:
        run.complete("O1", "A:reserve", {"portid": "P-1"})
    message = str(refused.value)
    assert message.startswith("cannot complete item A:reserve: the outputs lack what later")
    assert "reserve.port_id, read by A:activate (you gave 'portid')" in message
    assert "reserve.vlan, read by V:attach" in message
    assert run.status("O1").item("A:reserve").state == "fatally_failed"  # nothing changed
    run.complete("O1", "A:reserve", {"port_id": "P-1", "vlan": None})  # null, said on purpose
    run.run_until_idle()
    assert run.status("O1").item("A:activate").state == "completed"
    assert seen["V:attach"] == {"port_id": "P-1", "vlan": None}
    run.close()


def test_a_manual_task_must_give_what_later_items_read() -> None:
    run, _ = runtime()
    with pytest.raises(OperatorActionRejected, match=r"survey\.meters, read by A:report"):
        run.tasks.complete("O1", "A:survey", {})
    run.tasks.complete("O1", "A:survey", {"meters": 40})
    run.run_until_idle()
    assert run.status("O1").item("A:report").state == "completed"
    run.close()


def test_outputs_nothing_reads_are_not_required() -> None:
    unread = CATALOG.replace(" when reserve.port_id != null", "").replace(
        ' when Access.reserve.vlan != "none"', ""
    )
    run, _ = runtime(unread)
    run.complete("O1", "A:reserve")  # no outputs, as `om complete` sends by default
    run.run_until_idle()
    assert run.status("O1").item("A:activate").state == "completed"
    run.close()


def test_a_skip_is_refused_while_later_items_read_the_outputs_unless_forced() -> None:
    """Skipping ends the item without outputs: the guard of complete holds for it too."""
    run, seen = runtime()
    with pytest.raises(OperatorActionRejected) as refused:
        run.skip("O1", "A:reserve", "done elsewhere")
    message = str(refused.value)
    assert message.startswith("cannot skip item A:reserve: items still to run read its outputs")
    assert "reserve.port_id, read by A:activate" in message
    assert "reserve.vlan, read by V:attach" in message
    assert "om complete O1 A:reserve --outputs" in message and "force" in message
    assert run.status("O1").item("A:reserve").state == "fatally_failed"  # nothing changed
    run.skip("O1", "A:reserve", "the readers handle null", force=True)
    run.run_until_idle()
    assert run.status("O1").item("A:reserve").state == "skipped"
    assert run.status("O1").item("A:activate").state == "skipped"  # its when reads null
    assert seen["V:attach"] == {}
    run.close()


def test_an_item_nobody_reads_is_skipped_without_force() -> None:
    run, _ = runtime("""
cfs Access { attribute site: string }
plan Access on add {
  auto reserve handler "reserve" retry none
  auto activate handler "activate" after reserve
}
""")
    run.skip("O1", "A:reserve")
    run.run_until_idle()
    assert run.status("O1").item("A:activate").state == "completed"
    run.close()
