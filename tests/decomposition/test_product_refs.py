"""How a TMF item's product references pick a product when a name is shared (O031, O032).

An id that names one product decides; a name that several products share decides nothing,
and is an error only when nothing else says which product is meant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import OrderValidationError
from om_dsl.orders.decompose import Decomposer

CATALOG = """
catalog "Shared names" version "1"

offer Basic "Mobile Basic" id "500" { spec "S-500" "Mobile spec" }
offer Plus "Mobile Basic" id "501" { spec "S-501" "Mobile spec" }
offer Other "Other" id "502" {}

resource Sim "SIM" {}

decompose Basic -> Sim {}
decompose Plus -> Sim {}
decompose Other -> Sim {}
"""


@pytest.fixture(scope="module")
def decomposer() -> Decomposer:
    return Decomposer(compile_catalog("shared.om", CATALOG).raise_on_error())


def _item(**refs: Any) -> bytes:
    item = {"id": "1", "action": "add", **refs}
    return json.dumps({"id": "R", "productOrderItem": [item]}).encode()


def _product(decomposer: Decomposer, raw: bytes) -> str:
    return decomposer.read(raw).items[0].product


def _issues(decomposer: Decomposer, raw: bytes) -> list[tuple[str, str, str]]:
    with pytest.raises(OrderValidationError) as caught:
        decomposer.read(raw)
    return [(i.code, i.path, i.message) for i in caught.value.issues]


def test_an_offering_id_decides_over_a_shared_name(decomposer: Decomposer) -> None:
    offering = {"id": "501", "name": "Mobile Basic"}
    assert _product(decomposer, _item(productOffering=offering)) == "Plus"


def test_a_spec_id_decides_over_a_shared_spec_name(decomposer: Decomposer) -> None:
    spec = {"productSpecification": {"id": "S-500", "name": "Mobile spec"}}
    assert _product(decomposer, _item(product=spec)) == "Basic"
    # and a shared offering name with a spec id that says which
    raw = _item(productOffering={"name": "Mobile Basic"}, product=spec)
    assert _product(decomposer, raw) == "Basic"


def test_a_shared_name_alone_is_ambiguous(decomposer: Decomposer) -> None:
    [(code, path, message)] = _issues(decomposer, _item(productOffering={"name": "Mobile Basic"}))
    assert (code, path) == ("O031", "productOrderItem[0].productOffering.name")
    assert "matches several products: Basic, Plus" in message
    # an offering id that is unknown says nothing either
    raw = _item(productOffering={"id": "999", "name": "Mobile Basic"})
    assert [i[0] for i in _issues(decomposer, raw)] == ["O031"]


def test_a_shared_name_that_cannot_be_the_product_disagrees(decomposer: Decomposer) -> None:
    [(code, path, message)] = _issues(
        decomposer, _item(productOffering={"id": "502", "name": "Mobile Basic"})
    )
    assert (code, path) == ("O032", "productOrderItem[0].productOffering.name")
    assert message == (
        "'Mobile Basic' matches Basic, Plus, but the item's other reference says Other"
    )


def test_an_unknown_id_next_to_a_known_name_disagrees(decomposer: Decomposer) -> None:
    """A client's id is what its catalog says: an id this catalog lacks was ignored when the
    name matched, and the order fulfilled as that offer with no word (a TMF client's probe)."""
    raw = _item(productOffering={"id": "99999", "name": "Other"})
    [(code, path, message)] = _issues(decomposer, raw)
    assert (code, path) == ("O032", "productOrderItem[0].productOffering.id")
    assert message == (
        "unknown offering id '99999', but the item's other reference says Other "
        "(its offering id is '502')"
    )
    spec = {"productSpecification": {"id": "S-999", "name": "Mobile spec"}}
    [(code, path, message)] = _issues(
        decomposer, _item(productOffering={"id": "500"}, product=spec)
    )
    assert (code, path) == ("O032", "productOrderItem[0].product.productSpecification.id")
    assert message.endswith("says Basic (its specification id is 'S-500')")


def test_a_spec_id_counts_only_for_an_offer_that_declares_specs(decomposer: Decomposer) -> None:
    spec = {"productSpecification": {"id": "CPQ-SPEC-1", "name": "whatever"}}
    assert _product(decomposer, _item(productOffering={"id": "502"}, product=spec)) == "Other"
