"""`make serve-demo` (python -m om_dsl.service.demo) runs to the end against the real service."""

from __future__ import annotations

from demo_support import run_demo


def test_the_serve_demo_completes_every_order_through_the_api() -> None:
    out = run_demo("om_dsl.service.demo")
    for order_id in ("30001", "ORD-1001", "ORD-1002", "ORD-1003", "ORD-1004"):
        assert f"/productOrder/{order_id}" in out
        row = next(line for line in out.splitlines() if f"│ {order_id} " in line)
        assert "completed" in row and "no completion" not in row, row
        assert f"{order_id}: created -> " in out and out.count("-> completed") >= 5
    assert "POST /hub -> 201" in out
    assert "(an unknown offering) -> 400" in out
    assert "field-tech: POST /tasks/.../complete order/AccessLine:install" in out
    assert "number.ported -> {'completed': 1}" in out
