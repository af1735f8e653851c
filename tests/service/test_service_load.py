"""Load: 240 orders from 8 client threads through the real service, each running three
callouts to the simulators; every one is acknowledged, none is lost or duplicated, all complete."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service_support import Running, order_json, wait_for

ORDERS = 240
CLIENTS = 8


def test_240_orders_from_8_clients_all_complete(service: Callable[..., Running], sims: Any) -> None:
    running = service(concurrency=32)
    local = threading.local()

    def submit(number: int) -> tuple[int, str]:
        if not hasattr(local, "client"):
            local.client = running.client()
        answer = local.client.post(
            "/productOrder", json=order_json("fibre-modify", id=f"LOAD-{number:04d}")
        )
        return answer.status_code, answer.json().get("id", answer.text)

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(submit, range(ORDERS)))
    assert {status for status, _ in results} == {201}, [r for r in results if r[0] != 201][:3]
    ids = [order_id for _, order_id in results]
    assert len(set(ids)) == ORDERS

    api = running.client()

    def completed() -> bool:
        answer = api.get("/productOrder", params={"state": "completed", "limit": 1})
        return answer.headers["x-total-count"] == str(ORDERS)

    wait_for(completed, timeout=90, what=f"{ORDERS} completed orders")
    listed = api.get("/productOrder", params={"limit": 1000, "fields": "state"}).json()
    assert sorted(o["id"] for o in listed) == sorted(ids)
    assert {o["state"] for o in listed} == {"completed"}
    assert api.get("/fallout").json() == []
    effects = sum(sim.stats()["effects"] for sim in sims.all())
    assert effects == ORDERS * 3  # one effect per callout: no order ran twice
