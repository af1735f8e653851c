"""`make demo` (python -m om_dsl.demo) runs to the end against the real simulators."""

from __future__ import annotations

from demo_support import run_demo


def test_the_demo_completes_every_order_and_notifies_it() -> None:
    out = run_demo("om_dsl.demo")
    orders = {
        "30001": "tmf622-product-order.json",
        "ORD-1001": "home-duo-add",
        "ORD-1004": "home-trio-tv",
        "ORD-1002": "fibre-modify",
        "ORD-1003": "copper-delete",
    }
    for order_id, source in orders.items():
        assert f"submitted {source}" in out
        row = next(line for line in out.splitlines() if f"│ {order_id} " in line)
        assert "completed" in row and "no completion" not in row, row
    assert "demo-field-tech completed order/AccessLine:install" in out
    assert "number.ported signalled" in out
    assert "held callout(s) released" in out
