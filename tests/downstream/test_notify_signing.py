"""Signed notifications: ``X-Om-Signature`` lets a listener refuse forged or replayed events.
(docs/downstream.md's example of ``verify`` runs in tests/docs/test_python_blocks.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from downstream_support import compile_text, lab_order, loopback_http, url_of

from om_dsl.cli.runtime_args import notify_settings
from om_dsl.runtime import Runtime
from om_dsl.runtime.notify import SIGNATURE_HEADER, NotifySettings, SigningError, sign, verify

Lab = Callable[..., Runtime]
SECRET = "s3cret-for-tests"
SIMPLE = """
cfs Line { attribute site: string  attribute technology: string }
plan Line on add { milestone done }
"""


class _Capture(BaseHTTPRequestHandler):
    """Keeps each delivery's raw body and signature header: the HMAC is over the bytes."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((self.headers.get(SIGNATURE_HEADER), body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@contextmanager
def _capturing() -> Iterator[tuple[str, list[tuple[str | None, bytes]]]]:
    with loopback_http(_Capture) as server:
        got: list[tuple[str | None, bytes]] = []
        server.got = got  # type: ignore[attr-defined]
        yield url_of(server, "/events"), got


def test_every_delivery_is_signed_over_its_body(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OM_TEST_NOTIFY_SECRET", SECRET)
    with _capturing() as (url, got):
        settings = NotifySettings(urls=(url,), signing_secret_env="OM_TEST_NOTIFY_SECRET")
        runtime = lab(compile_text(SIMPLE), notify=settings)
        runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
        runtime.run_until_idle()
        assert runtime.notifications.drain(10)
    assert len(got) >= 2
    for header, body in got:
        assert header is not None
        verify(SECRET.encode(), header, body)
        with pytest.raises(SigningError, match="does not match the body"):
            verify(SECRET.encode(), header, body.replace(b"completed", b"cancelled") + b" ")
        with pytest.raises(SigningError, match="does not match"):
            verify(b"another secret", header, body)


def test_a_missing_secret_stops_the_runtime_at_start_not_each_delivery(lab: Lab) -> None:
    settings = NotifySettings(urls=(), signing_secret_env="OM_TEST_NO_SUCH_SECRET")
    with pytest.raises(SigningError, match=r"\$OM_TEST_NO_SUCH_SECRET is not set"):
        lab(compile_text(SIMPLE), notify=settings)


def test_without_a_secret_nothing_is_signed(lab: Lab) -> None:
    with _capturing() as (url, got):
        runtime = lab(compile_text(SIMPLE), notify=NotifySettings(urls=(url,)))
        runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
        runtime.run_until_idle()
        assert runtime.notifications.drain(10)
    assert got and all(header is None for header, _ in got)


@pytest.mark.parametrize(
    ("header", "now", "problem"),
    [
        (sign(b"k", b"{}", at=1_000), 1_000 + 301, "more than 300 s old"),  # a replay
        (sign(b"k", b"{}", at=1_000), 1_000 - 301, "more than 300 s old"),
        ("v1=abc", 1_000, "malformed"),
        ("t=1000", 1_000, "malformed"),
        ("t=x,v1=abc", 1_000, "malformed"),
    ],
)
def test_verify_refuses(header: str, now: float, problem: str) -> None:
    with pytest.raises(SigningError, match=problem):
        verify(b"k", header, b"{}", now=now)


def test_verify_takes_a_fresh_signature() -> None:
    verify(b"k", sign(b"k", b'{"a": 1}', at=5_000), b'{"a": 1}', now=5_100)


def test_the_commands_sign_when_om_notify_secret_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OM_NOTIFY_SECRET", raising=False)
    assert notify_settings(None).signing_secret_env is None
    monkeypatch.setenv("OM_NOTIFY_SECRET", "x")
    assert notify_settings(None).signing_secret_env == "OM_NOTIFY_SECRET"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_om_notify_secret_is_refused_not_taken_as_unsigned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """An SRE's unfilled template (`OM_NOTIFY_SECRET=`) sent every event unsigned, silently."""
    monkeypatch.setenv("OM_NOTIFY_SECRET", value)
    with pytest.raises(SystemExit) as stop:
        notify_settings(None)
    assert stop.value.code == 2
    assert "OM_NOTIFY_SECRET is set but empty" in capsys.readouterr().err
