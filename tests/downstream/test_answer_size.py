"""A synchronous answer is read up to 1 MiB, the bound of a callback body: a 5 MB answer that a
``response { all = body }`` mapping took whole was stored, and printed by ``om status``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import httpx
from downstream_support import (
    Sims,
    compile_text,
    line,
    loopback_http,
    order,
    run_until,
    url_of,
    wait_until,
)

from om_dsl.runtime import Runtime
from om_dsl.runtime.callback_server import MAX_CALLBACK_BYTES
from om_dsl.runtime.downstream.http import MAX_BODY_BYTES, send

CHUNK = 64 * 1024
CATALOG = """
system Inv { url env("INV_URL") timeout 5s retry fixed 10ms max 1 }
cfs Line { attribute site: string }
plan Line on add {
  callout look: Inv POST "/look/{line.site}" response { all = body }
  callout poke: Inv POST "/poke/{line.site}"
}
"""


class Large(BaseHTTPRequestHandler):
    """A 200 of ``{"blob": "xxx..."}``, ``mb`` MB in all (the first path segment after the
    verb), written in chunks; ``sent`` records whether the whole answer went out."""

    sent: list[bool] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        size = int(self.path.rsplit("/", 1)[-1]) * 1_000_000
        head, tail = b'{"blob": "', b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        left = size - len(head) - len(tail)
        try:
            self.wfile.write(head)
            while left > 0:
                self.wfile.write(b"x" * min(CHUNK, left))
                left -= CHUNK
            self.wfile.write(tail)
            Large.sent.append(True)
        except OSError:  # the client closed the connection: it read no further
            Large.sent.append(False)

    def log_message(self, *args: object) -> None:
        pass


def test_the_answer_limit_is_the_callback_limit() -> None:
    assert MAX_BODY_BYTES == MAX_CALLBACK_BYTES == 1024 * 1024


def test_a_5_mb_answer_fails_the_attempt_saying_the_limit(
    lab: Callable[..., Runtime], sims: Sims
) -> None:
    catalog = compile_text(CATALOG)
    with loopback_http(Large) as server:
        runtime = lab(catalog, environ=sims.environ(INV_URL=url_of(server, "")))
        runtime.submit(order("O1", catalog, [line("L", site="5")]))
        assert run_until(runtime, "O1", {"completed", "held"}) == "held"
    status = runtime.status("O1")
    look = status.item("L:look")
    assert (look.state, look.attempt, look.outputs) == ("fatally_failed", 2, None)
    start = '{"blob": "' + "x" * 190 + "..."
    assert look.reason == (f"Inv POST /look/5: answer of more than 1 MiB (the limit): 200 {start}")
    assert len(status.model_dump_json()) < 10_000  # nothing of the answer was kept
    poke = status.item("L:poke")  # no response mapping reads the answer: it is not needed
    assert (poke.state, poke.outputs) == ("completed", {})


def test_an_answer_over_the_limit_is_not_read_whole() -> None:
    Large.sent = []

    async def ask(url: str) -> tuple[int, int, bool]:
        async with httpx.AsyncClient() as client:
            answer = await send(client, client.build_request("POST", url), 10)
        return answer.status, len(answer.body), answer.oversize

    with loopback_http(Large) as server:
        got = asyncio.run(ask(url_of(server, "/look/64")))
        wait_until(lambda: bool(Large.sent))  # the server's write ended, one way or the other
    assert got == (200, MAX_BODY_BYTES, True)
    assert Large.sent == [False]  # the client closed the connection after 1 MiB of 64 MB
