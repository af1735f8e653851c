"""A null in a ``modify``'s ``previous`` says the attribute had no value before the order (so
its default, when it has one): the order sets it for the first time.  It used to be dropped
as an absent value, so ``previous`` read "unchanged" for it, and the change made no work."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from decomposition_support import ACME, catalog_at, decomposer, engines

from om_dsl import decompose
from om_dsl.errors import OrderValidationError
from om_dsl.orders.jsondoc import load_document
from om_dsl.orders.limits import DEFAULT_LIMITS
from om_dsl.orders.parse import read_order
from om_dsl.orders.quick import read_quick


def _order(attributes: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "ORD-P",
        "account": "ACC-1",
        "attributes": {"site_id": "SITE-1"},
        "items": [
            {
                "id": "7",
                "product": "HomeFibre",
                "action": "modify",
                "attributes": attributes,
                "previous": previous,
            }
        ],
    }


def _lines(data: dict[str, Any], engine: str) -> dict[str, Any]:
    result = decompose(catalog_at(ACME), json.dumps(data), engine=engine)
    return {line.id: line for line in result.lines()}


@pytest.mark.parametrize("engine", engines())
def test_an_attribute_set_for_the_first_time_is_a_change(engine: str) -> None:
    data = _order({"speed": 100, "port_id": "P-9"}, {"port_id": None})
    access = _lines(data, engine)["order/AccessLine"]
    assert access.action == "modify"
    assert access.changed == ["port_id"]
    assert access.previous == {}  # it had no value


@pytest.mark.parametrize("engine", engines())
def test_a_null_previous_value_stands_for_the_default(engine: str) -> None:
    """static_ip defaults to false: null before and true now turns the static IP on."""
    lines = _lines(_order({"static_ip": True}, {"static_ip": None}), engine)
    assert lines["7/StaticIp"].action == "add"
    assert lines["7/InternetService"].action == "noChange"


def test_both_readers_read_a_null_previous_value_alike() -> None:
    data = _order(
        {"speed": 100, "port_id": "P-9", "static_ip": True}, {"port_id": None, "static_ip": None}
    )
    index = decomposer(ACME, "compiled").index
    quick = read_quick(load_document(copy.deepcopy(data), DEFAULT_LIMITS), index, DEFAULT_LIMITS)
    thorough = read_order(copy.deepcopy(data), index, DEFAULT_LIMITS, quick=False)
    assert quick is not None
    assert quick.items[0].previous == {"port_id": None, "static_ip": False}
    assert quick.model_dump_json() == thorough.model_dump_json()


def test_a_null_previous_value_is_still_a_checked_name() -> None:
    """An unknown name is refused, null or not."""
    with pytest.raises(OrderValidationError) as info:
        decompose(catalog_at(ACME), json.dumps(_order({"speed": 100}, {"prot_id": None})))
    assert [(i.code, i.path) for i in info.value.issues] == [("O034", "items[0].previous.prot_id")]
