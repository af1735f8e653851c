"""Downstream answers and callbacks are read as JSON the store can keep, or refused saying why.

``json.loads`` alone turned NaN into a stored null (the item completed with a value it never
got), and deep nesting into a ``RecursionError``: a 500 on the callback route, a callout
"raised RecursionError" and retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from downstream_support import Sims, compile_text, line, order, run_until

from om_dsl.errors import NotFound
from om_dsl.runtime import Runtime
from om_dsl.runtime.callback_server import handle_callback
from om_dsl.runtime.downstream.request import ANSWER_DEPTH, parse_body

REFUSED = [
    (b'{"value": NaN}', "holds NaN, which is not a JSON number"),
    (b'{"value": Infinity}', "holds Infinity, which is not a JSON number"),
    (b'{"id": 1e999}', "holds the number 1e999, which is too large"),
    (b"[" * 100_000 + b"]" * 100_000, f"is nested too deeply; the limit is {ANSWER_DEPTH} levels"),
    (b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}", "is nested too deeply"),
    (b'{"a": "\\udc00"}', "has a lone surrogate"),
    (b"{", "is not JSON: Expecting property name enclosed in double quotes at column 2"),
    (b'{"a": "caf\xe9"}', "is not UTF-8 text"),
]


@pytest.mark.parametrize(("raw", "why"), REFUSED, ids=[w[:24] for _, w in REFUSED])
def test_an_answer_json_cannot_keep_is_refused_saying_why(raw: bytes, why: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_body(raw)
    assert str(raised.value).startswith(why)


def test_usual_answers_are_read_as_before() -> None:
    assert parse_body(b"  ") is None
    assert parse_body(b'{"port": {"id": "P-1", "vlan": 10.5}, "list": [1, [2, [3]]]}') == {
        "port": {"id": "P-1", "vlan": 10.5},
        "list": [1, [2, [3]]],
    }
    assert parse_body(b'{"a": 1, "a": 2}') == {"a": 2}  # a downstream's repeat: last one wins


@pytest.mark.parametrize(("raw", "why"), REFUSED, ids=[w[:24] for _, w in REFUSED])
def test_a_callback_json_cannot_keep_is_a_400_before_its_token_is_used(
    raw: bytes, why: str
) -> None:
    def receive(token: str, payload: object) -> object:
        raise NotFound("no such token")  # pragma: no cover - never reached

    status, answer = handle_callback(receive, "tok", raw)
    assert status == 400
    assert answer["error"].startswith(f"the callback body {why}")


class _Answer(BaseHTTPRequestHandler):
    """Answers every POST with the body the test put on the server."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body: bytes = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def answering(body: bytes) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"port": {"id": NaN}}', "holds NaN, which is not a JSON number"),
        (b'{"port": ' + b"[" * 5000 + b"]" * 5000 + b"}", "is nested too deeply"),
    ],
)
def test_a_callout_answer_json_cannot_keep_fails_the_item_saying_why(
    lab: Callable[..., Runtime], sims: Sims, body: bytes, why: str
) -> None:
    catalog = compile_text(
        """
        system Inv { url env("INV_URL") timeout 2s retry none }
        cfs Line { attribute site: string }
        plan Line on add {
          callout reserve: Inv POST "/ports/reserve" response { port_id = body.port.id }
        }
        """
    )
    with answering(body) as url:
        runtime = lab(catalog, environ=sims.environ(INV_URL=url))
        runtime.submit(order("O1", catalog, [line("L", site="S")]))
        assert run_until(runtime, "O1", {"completed", "held"}) == "held"
    item = runtime.status("O1").item("L:reserve")
    assert item.reason is not None
    assert item.reason.startswith(f"the answer of Inv POST /ports/reserve {why}")
    assert item.reason.endswith("so its response mapping cannot read it")
