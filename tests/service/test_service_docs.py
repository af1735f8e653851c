"""docs/service.md's error examples are what the real service answers, byte for byte as JSON,
so that they cannot drift from the service again."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from service_support import REPO, Running, order_json

from om_dsl.service import request_issues

DOC = (REPO / "docs" / "service.md").read_text(encoding="utf-8")
ERRORS = DOC[DOC.index("## Errors\n") : DOC.index("## Embedding the app")]


def _examples() -> list[dict[str, Any]]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", ERRORS, re.S)]


def _curl() -> tuple[str, bytes]:
    """The documented ``curl -d '<body>' URL<path>``: the path and the body."""
    found = re.search(r"`curl -d '(.*?)'\s+URL(/\S+)`", ERRORS, re.S)
    assert found, "the curl example is gone from the Errors section"
    return found[2], found[1].encode()


def test_the_documented_errors_are_what_the_service_answers(
    service: Callable[..., Running],
) -> None:
    order_error, request_error = _examples()
    api = service().client()
    order = order_json("tmf622-product-order")
    order["productOrderItem"][0]["id"] = 1
    del order["productOrderItem"][0]["action"]
    answer = api.post("/productOrder", json=order)
    assert answer.status_code == 400
    assert answer.json() == order_error
    path, body = _curl()  # curl -d sends a form content type: the body is JSON all the same
    headers = {"content-type": "application/x-www-form-urlencoded"}
    answer = api.post(path, content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == request_error


def test_the_documented_issue_codes_are_the_ones_in_use() -> None:
    documented = set(re.findall(r"^\| (S\d{3})", ERRORS, re.M))
    documented |= set(re.findall(r"^\| S\d{3}, (S\d{3})", ERRORS, re.M))
    in_module = set(re.findall(r"^(S\d{3}) ", request_issues.__doc__ or "", re.M))
    assert len(in_module) == 6 and in_module <= documented
    assert {"S001", "S002", "S003", "S004"} <= documented
