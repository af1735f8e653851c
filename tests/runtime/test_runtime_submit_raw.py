"""A host hands the runtime the order as it received it (TMF622 or native JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest

from om_dsl import OrderValidationError, Runtime, SqliteStore, compile_catalog

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return compile_catalog(EXAMPLES / "catalog" / "acme.om").raise_on_error()


def test_submit_takes_tmf622_json_text_unchanged(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"))
    text = (EXAMPLES / "orders" / "tmf622-product-order.json").read_text()
    assert runtime.submit(text) == "30001"
    assert runtime.status("30001").state == "acknowledged"
    assert runtime.plan(text.encode()).order_id == "30001"
    runtime.close()


def test_an_invalid_raw_order_is_refused_with_paths_and_nothing_is_stored(
    catalog,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    runtime = Runtime(catalog, store=SqliteStore(tmp_path / "om.db"))
    bad = '{"id": "X1", "items": [{"id": "1", "product": "HomeFibre", "attributes": {"speed": 5}}]}'
    with pytest.raises(OrderValidationError) as caught:
        runtime.submit(bad)
    assert [i.path for i in caught.value.issues] == ["items[0].attributes.speed"]
    assert not runtime.has_order("X1")
    runtime.close()
