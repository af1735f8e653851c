"""What a security review of `om serve` found, each fixed and kept fixed, over real HTTP:
operator text that could forge log lines, a refused claim that was stored, downstream text
that could drive a terminal, secrets in encoded forms, routes that read a body before the
token check, and the dev mode's proxy headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from service_support import Running, open_tasks, order_json, wait_for

TRIO = "ORD-1004"
FORGED = "line1\r\n2026-11-28T22:31:40.000Z INFO om_dsl.service: order ORD-1004: task completed"


def _task(service: Callable[..., Running]) -> tuple[httpx.Client, dict[str, Any]]:
    """A client and the trio's first open field task."""
    api = service().client()
    assert api.post("/productOrder", json=order_json("home-trio-tv")).status_code == 201
    return api, wait_for(lambda: open_tasks(api, TRIO), what="the trio's task")[0]


def _refused(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalidRequest"
    assert words in answer.json()["message"]


def _task_rows(api: httpx.Client) -> list[str]:
    events = api.get(f"/productOrder/{TRIO}/events").json()
    return [e["kind"] for e in events if e["kind"].startswith("task.")]


@pytest.mark.parametrize("reason", [FORGED, "r\x1b[31mX", "a\u2028b", "ok \u202edeifirev"])
def test_a_task_fail_reason_is_one_printable_line(
    service: Callable[..., Running], reason: str
) -> None:
    """`POST /tasks/{id}/fail` took CR/LF and escapes in its reason, which became the item's
    fallout reason in the text log and in `om events`: forged lines.  A 400 now, as every
    other operator reason, and the task is still open."""
    api, task = _task(service)
    answer = api.post(f"/tasks/{task['id']}/fail", json={"user": "alice", "reason": reason})
    _refused(answer, "a reason is one line of at most 1000 printable characters")
    assert api.get(f"/tasks/{task['id']}").json()["state"] == "open"


@pytest.mark.parametrize(
    "user, problem",
    [
        ("\u202eecila", "U+202E (a format character, such as a direction override)"),
        ("u\r\nX", "U+000D (a control character)"),
        ("alice\x1b[2J", "U+001B (a control character)"),
    ],
)
def test_a_bad_user_is_a_400_that_names_it_and_stores_nothing(
    service: Callable[..., Running], user: str, problem: str
) -> None:
    """A claim by a name with a right-to-left override answered 400 but was stored (the task
    held by a name displayed as "alice", with no event row); reassign took the name with a
    200; a newline in it was a 409 "at most 200 characters".  Now each is a 400 naming the
    character, and nothing changes."""
    api, task = _task(service)
    _refused(api.post(f"/tasks/{task['id']}/claim", json={"user": user}), problem)
    assert api.get(f"/tasks/{task['id']}").json()["claimedBy"] is None
    moved = api.post(f"/tasks/{task['id']}/reassign", json={"from": None, "to": user})
    _refused(moved, problem)
    _refused(api.post(f"/tasks/{task['id']}/fail", json={"user": user, "reason": "x"}), problem)
    assert api.get(f"/tasks/{task['id']}").json()["claimedBy"] is None
    assert _task_rows(api) == []
