"""`om plan` notes a `depend` whose two items are both in the order but that links nothing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from om_dsl.cli import _register, app

_register(["plan"])

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "invalid"
    / "W014_within_root_depend_that_cannot_link.om"
)


def plan(tmp_path: Path, items: list[dict[str, object]]) -> str:
    order = tmp_path / "order.json"
    order.write_text(json.dumps({"id": "N-1", "items": items}), encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", str(FIXTURE), str(order)])
    assert result.exit_code == 0, result.stderr
    return " ".join(result.stdout.split())  # the note may wrap


def test_a_depend_kept_apart_by_its_scope_is_noted(tmp_path: Path) -> None:
    out = plan(tmp_path, [{"id": "web", "product": "Web"}, {"id": "tv", "product": "Tv"}])
    assert (
        "note: tv/TvService:entitle waits for no AccessLine.ready, though the order has "
        "order/AccessLine:ready: `depend TvService.entitle after AccessLine.ready`" in out
    )
    assert "links only lines within one root order item" in out


def test_a_depend_that_links_is_not_noted(tmp_path: Path) -> None:
    parts = [{"id": "d.web", "product": "Web"}, {"id": "d.tv", "product": "Tv"}]
    out = plan(tmp_path, [{"id": "d", "product": "Duo", "children": parts}])
    assert "note:" not in out
