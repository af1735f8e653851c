"""`POST /productOrder/{id}/skip` refuses, as `/complete` without outputs does, to skip an item
whose outputs later items read (they would run with null, past the point of no return too),
unless the body says `"force": true`.  On the acme catalog, with the simulators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service_support import Running, order_json, wait_state

ORDER = "ORD-1001"


def test_a_skip_of_an_item_whose_outputs_are_read_is_refused_unless_forced(
    service: Callable[..., Running], sims: Any
) -> None:
    api = service().client()
    sims.inventory.configure(path="/ports/reserve", status=400)  # permanent: fallout at once
    assert api.post("/productOrder", json=order_json("home-duo-add")).status_code == 201
    assert wait_state(api, ORDER, {"held"}) == "held"
    (item,) = [f["itemId"] for f in api.get("/fallout").json()]
    assert item.endswith(":reserve_port")
    refused = api.post(f"/productOrder/{ORDER}/skip", json={"itemId": item})
    assert refused.status_code == 409
    message = refused.text
    assert f"cannot skip item {item}: items still to run read its outputs" in message
    assert "reserve_port.port_id, read by " in message and ":activate_line" in message
    assert "om complete" in message
    assert api.get("/fallout").json()[0]["itemId"] == item  # nothing changed
    forced = api.post(f"/productOrder/{ORDER}/skip", json={"itemId": item, "force": True})
    assert forced.status_code == 204, forced.text
    status = api.get(f"/productOrder/{ORDER}/status").json()
    assert {i["id"]: i["state"] for i in status["items"]}[item] == "skipped"
