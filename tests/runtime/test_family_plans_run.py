"""A family plan runs for each member's lines, with that member's attributes."""

from __future__ import annotations

from typing import Any

from runtime_support import compile_text, states

from om_dsl.runtime import HandlerRegistry, ItemContext, Runtime

LAB = """
offer Bundle { attribute speed: int default 100 }
cfs Voice { family Vas  attribute code: string  attribute lines: int }
cfs Tv { family Vas  attribute code: string }
decompose Bundle {
  -> Voice { code = "V"; lines = 2 }
  -> Tv { code = "T" }
}
plan family Vas on add {
  auto provision handler "vas.provision"
  auto check handler "vas.check" after provision when provision.code == line.code
}
"""


def test_each_member_runs_the_family_plan_with_its_own_line() -> None:
    catalog = compile_text(LAB)
    seen: list[tuple[str, str, Any]] = []
    handlers = HandlerRegistry()

    def provision(ctx: ItemContext) -> dict[str, Any]:
        seen.append((ctx.product, ctx.name, dict(ctx.line)))
        return {"code": ctx.line["code"]}

    handlers.register("vas.provision", provision)
    handlers.register("vas.check", lambda ctx: {})
    runtime = Runtime(catalog, handlers=handlers)
    runtime.submit({"id": "O1", "items": [{"id": "1", "product": "Bundle"}]})
    runtime.run_until_idle()
    assert sorted(seen) == [
        ("Tv", "provision", {"code": "T"}),
        ("Voice", "provision", {"code": "V", "lines": 2}),
    ]
    assert states(runtime, "O1") == {
        "1/Voice:provision": "completed",
        "1/Voice:check": "completed",
        "1/Tv:provision": "completed",
        "1/Tv:check": "completed",
    }
    runtime.close()
