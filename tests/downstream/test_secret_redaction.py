"""Credentials echoed back by a downstream system never reach what the runtime keeps or shows.

A real HTTP server on a free 127.0.0.1 port echoes the ``Authorization`` header back in every
way the audit found: past the 200-character cut of a reason, JSON-escaped, URL-encoded, in a
field that the response mapping reads, and in callback payloads (one kept as *early*).  After
each run the secret, and every 8-character piece of it, must be absent from the SQLite files
(database and WAL), the event log, reasons, outputs, ``om status`` output and the logs.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from cli_support import om
from downstream_support import (
    compile_text,
    lab_order,
    loopback_http,
    run_until,
    sqlite,
    url_of,
    wait_until,
)

from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream.redaction import EXCERPT_CHARS, excerpt, redact
from om_dsl.runtime.handlers import HandlerRegistry, PermanentFailure
from om_dsl.runtime.outcomes import REASON_CHARS

# A secret with the characters JSON and URLs escape, so that every echoed form differs.
SECRET = 'SEKRIT"Q\\Z/tok+en 42&x=1'
DONE = {"completed", "held"}
CATALOG = """
system Sys "S" {
  url env("SYS_URL")
  timeout 2s
  auth bearer env("SYS_TOKEN")
  retry none
  permanent 400, 401, 403, 404
}
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout c: Sys POST "/{line.site}" response { id = body.id, all = body }
}
"""
ASYNC = """
system Sys "S" {
  url env("SYS_URL")
  timeout 2s
  auth bearer env("SYS_TOKEN")
  retry fixed 10ms max 2
}
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  callout c: Sys POST "/{line.site}" async response { id = body.id } timeout 30s
}
"""


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers by the first path segment; every answer carries the Authorization header."""

    callback_urls: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization") or ""
        raw = auth.split(" ", 1)[-1]
        mode = self.path.strip("/")
        if mode == "async":
            Echo.callback_urls.append(self.headers["X-Callback-Url"])
            time.sleep(0.5)  # slow enough to stop the runtime while the attempt is running
            self._send(202, b"{}")
        elif mode == "ok":
            self._send(200, json.dumps({"id": auth, "deep": [{"k": raw}]}).encode())
        else:
            self._send(401 if mode == "json" else 500, _body(mode, auth, raw))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the runtime stopped while it was due
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _body(mode: str, auth: str, raw: str) -> bytes:
    if mode == "json":  # JSON escapes the quote and the backslash: SEKRIT\"Q\\Z
        return json.dumps({"error": "unauthorized", "got": auth, "raw": raw}).encode()
    if mode == "go":  # Go's encoding/json writes & < > as \u0026 ...; any character may be
        return (
            json.dumps({"error": "denied", "got": go_escaped(raw)}).replace("\\\\u", "\\u").encode()
        )
    if mode == "url":
        return f"bad token; retry with ?token={quote(raw, safe='')}".encode()
    if mode.startswith("b64"):  # a debug dump of the header it got, base64-encoded
        return f"denied; got {' '.join(sorted(base64_forms(raw)))} as the token".encode()
    # "pad": the token starts a few characters before the reason's cut
    prefix = "x" * (EXCERPT_CHARS - len(" token=") - 4)
    return f"{prefix} token={raw} and more text after it".encode()


@pytest.fixture
def echo() -> Iterator[str]:
    Echo.callback_urls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def forms(secret: str) -> set[str]:
    """The usual ways ``secret`` comes back: raw, JSON-escaped, URL-encoded (redaction matches
    any mix of these per character; the tests look for each of them whole)."""
    escaped = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    escaped |= {text.replace("/", "\\/") for text in escaped}
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    encoded |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), t) for t in encoded}
    return {secret} | escaped | encoded | base64_forms(secret)


def base64_forms(secret: str) -> set[str]:
    """``secret`` in base64: standard and URL-safe, with and without its ``=`` padding."""
    raw = secret.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return encoded | {form.rstrip("=") for form in encoded}


def go_escaped(secret: str) -> str:
    """``secret`` with ``&`` and every third character written as ``\\uXXXX`` (placeholders
    that survive ``json.dumps`` as ``\\\\u``, turned back into escapes by the caller)."""
    return "".join(
        f"\\u{ord(c):04x}" if c == "&" or n % 3 == 0 else c for n, c in enumerate(secret)
    )


def pieces(secret: str = SECRET) -> list[str]:
    """The secret and every 8-character piece of it, in each form it could be stored in."""
    found: set[str] = set()
    for form in [*forms(secret), go_escaped(secret)]:
        found |= {form[i : i + 8] for i in range(len(form) - 7)}
    return sorted(found - {"********"})


def assert_nowhere(text: str | bytes, where: str) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    for piece in pieces():
        assert piece.encode("utf-8") not in data, f"{piece!r} in {where}"


def assert_store_clean(folder: Path) -> None:
    for path in folder.iterdir():  # om.db and om.db-wal (and anything else the store wrote)
        if path.is_file():
            assert_nowhere(path.read_bytes(), str(path))


def runtime_for(lab: Any, echo: str, tmp_path: Path, text: str = CATALOG) -> Runtime:
    environ = {"SYS_URL": echo, "SYS_TOKEN": SECRET}
    runtime: Runtime = lab(compile_text(text), store=sqlite(tmp_path), environ=environ)
    return runtime


def everything(runtime: Runtime, order_id: str) -> str:
    events = json.dumps([e._asdict() for e in runtime.events()], default=str)
    return events + runtime.status(order_id).model_dump_json()


# ---- the helper -------------------------------------------------------------------------------


def test_excerpt_redacts_the_whole_text_before_it_cuts_it() -> None:
    text = "x" * 195 + SECRET + " tail"
    cut = excerpt(text, [SECRET])
    assert cut == "x" * 195 + "*** t..."
    assert redact(json.dumps({"t": SECRET}), [SECRET]) == '{"t": "***"}'
    assert redact(quote(SECRET, safe=""), [SECRET]) == "***"
    assert redact(f"Bearer {SECRET}", [SECRET]) == "Bearer ***"


def test_the_base64_forms_of_a_secret_are_redacted_and_a_short_one_s_are_not() -> None:
    """The base64 of a bearer token came back as it was (only basic auth's pair was hidden
    in that form): every secret's is hidden, in both alphabets, padded or not; a value too
    short to be a secret (a basic-auth user) keeps the whole-word rule alone."""
    padded = "a?~>>token-zz"  # base64 YT9+Pj50b2tlbi16eg==, URL-safe YT9-Pj50b2tlbi16eg==
    assert len(base64_forms(padded)) == 4
    for secret in (SECRET, padded):
        for form in base64_forms(secret):
            assert redact(f"b64={form}.", [secret]) == "b64=***.", form
            assert redact(json.dumps({"b64": form}), [secret]) == '{"b64": "***"}', form
            assert redact(quote(form, safe=""), [secret]) == "***", form
    assert redact("it sent dXNlcg== (user)", ["user"]) == "it sent dXNlcg== (***)"


# ---- end to end -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["pad", "json", "url", "go", "b64"])
def test_an_echoed_token_is_hidden_in_reasons_events_and_the_store(
    mode: str,
    lab: Any,
    echo: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = runtime_for(lab, echo, tmp_path)
    runtime.submit(lab_order("O1", runtime.catalog, site=mode))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "held"
    reason = runtime.status("O1").item("L:c").reason or ""
    assert "***" in reason, reason
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    assert_store_clean(tmp_path)
    assert_nowhere(caplog.text, "logs")


def test_a_token_in_mapped_outputs_is_stored_and_shown_as_stars(
    lab: Any,
    echo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = runtime_for(lab, echo, tmp_path)
    runtime.submit(lab_order("O1", runtime.catalog, site="ok"))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", DONE) == "completed"
    outputs = runtime.status("O1").item("L:c").outputs
    assert outputs == {"id": "Bearer ***", "all": {"id": "Bearer ***", "deep": [{"k": "***"}]}}
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    code, out, err = om(capsys, "status", "O1", "--db", str(tmp_path / "om.db"), "--format",
                        "json")  # fmt: skip
    assert code == 0, err
    assert "Bearer ***" in out
    assert_nowhere(out + err, "om status")
    assert_store_clean(tmp_path)
    assert_nowhere(caplog.text, "logs")


def test_a_callback_of_an_attempt_cut_by_a_restart_is_stored_redacted(
    lab: Any, echo: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = runtime_for(lab, echo, tmp_path, ASYNC)
    first.submit(lab_order("O1", first.catalog, site="async"))  # type: ignore[arg-type]
    first.start_background()
    try:
        wait_until(lambda: bool(Echo.callback_urls))  # the attempt is running
    finally:
        first.stop()
    first.close()
    # after a restart the item is re-attempted; the callback of the cut attempt comes first
    runtime = runtime_for(lab, echo, tmp_path, ASYNC)
    (url,) = Echo.callback_urls
    token = url.rsplit("/", 1)[-1]
    payload = {"id": f"Bearer {SECRET}", "echo": [SECRET, {SECRET: quote(SECRET)}]}
    assert runtime.callback(token, payload) in {"early", "resolved"}
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    assert_store_clean(tmp_path)
    assert_nowhere(caplog.text, "logs")


def test_a_failed_callback_reason_is_redacted_before_it_is_cut(
    lab: Any, echo: str, tmp_path: Path
) -> None:
    text = ASYNC.replace("timeout 30s", "timeout 10s").replace("max 2", "max 1")
    runtime = runtime_for(lab, echo, tmp_path, text)
    runtime.submit(lab_order("O1", runtime.catalog, site="async"))  # type: ignore[arg-type]
    runtime.start_background()
    try:
        wait_until(lambda: runtime.status("O1").item("L:c").state == "waiting", 5)
        (url,) = Echo.callback_urls
        reason = "x" * 495 + json.dumps(SECRET)[1:-1] + " tail"  # escaped, across the cut
        answer = httpx.post(url, json={"status": "failed", "reason": reason})
        assert answer.status_code < 300, answer.text
        wait_until(lambda: runtime.status("O1").item("L:c").state != "waiting")
    finally:
        runtime.stop()
    assert "reports a failure: " + "x" * 495 + "*** t..." in everything(runtime, "O1")
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    assert_store_clean(tmp_path)


def test_a_callback_quoting_another_systems_token_is_redacted(
    lab: Any, echo: str, tmp_path: Path
) -> None:
    """The credentials in use are every system's: a network callback may quote billing's."""
    other = "B1LL1NG-T0KEN-0123456789"
    text = ASYNC.replace("timeout 30s", "timeout 10s").replace("max 2", "max 1")
    text += 'system Billing { url "http://127.0.0.1:9" auth bearer env("BILL_TOKEN") }\n'
    environ = {"SYS_URL": echo, "SYS_TOKEN": SECRET, "BILL_TOKEN": other}
    runtime: Runtime = lab(compile_text(text), store=sqlite(tmp_path), environ=environ)
    runtime.submit(lab_order("O1", runtime.catalog, site="async"))  # type: ignore[arg-type]
    runtime.start_background()
    try:
        wait_until(lambda: runtime.status("O1").item("L:c").state == "waiting", 5)
        (url,) = Echo.callback_urls
        answer = httpx.post(url, json={"status": "failed", "reason": f"boom Bearer {other}"})
        assert answer.status_code < 300, answer.text
        wait_until(lambda: runtime.status("O1").item("L:c").state != "waiting")
    finally:
        runtime.stop()
    assert "reports a failure: boom Bearer ***" in everything(runtime, "O1")
    runtime.close()
    for path in tmp_path.iterdir():
        if path.is_file():
            assert other.encode() not in path.read_bytes(), path


AUTO = """
system Sys "S" {
  url env("SYS_URL")
  auth bearer env("SYS_TOKEN")
}
cfs Line { attribute site: string  attribute technology: string }
plan Line on add {
  auto work handler "work" retry none
}
"""


@pytest.mark.parametrize("permanent", [False, True])
def test_a_handlers_exception_is_redacted_and_cut_before_it_is_kept(
    permanent: bool, lab: Any, echo: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A host's handler calls the systems itself, so its error text may quote a credential
    of the catalog; it was kept as written, in every form and at any length."""
    caplog.set_level(logging.DEBUG)
    handlers = HandlerRegistry()
    error = PermanentFailure if permanent else RuntimeError

    @handlers.handler("work")
    def work(ctx: Any) -> None:
        raise error(f"401 for Bearer {SECRET} ({json.dumps(SECRET)}) " + "y" * 5000)

    environ = {"SYS_URL": echo, "SYS_TOKEN": SECRET}
    runtime: Runtime = lab(compile_text(AUTO), store=sqlite(tmp_path), environ=environ,
                           handlers=handlers)  # fmt: skip
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    assert run_until(runtime, "O1", {"failed", "held"}) in {"failed", "held"}
    reason = runtime.status("O1").item("L:work").reason or ""
    said = "work: 401" if permanent else "work raised RuntimeError: 401"
    assert reason.startswith(f'{said} for Bearer *** ("***") yyy'), reason
    assert len(reason) == REASON_CHARS + len("..."), len(reason)
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    assert_store_clean(tmp_path)
    assert_nowhere(caplog.text, "logs")


class Unreadable(Exception):
    """An exception whose message cannot be read: its ``__str__`` raises, with a secret."""

    def __str__(self) -> str:
        raise RuntimeError(f"str failed {SECRET} " + "z" * 1_000_000)


def test_a_handlers_exception_whose_message_cannot_be_read_is_still_safe(
    lab: Any, echo: str, tmp_path: Path
) -> None:
    """The failure of ``str(exc)`` escaped the redaction, to a fallback that kept its text as
    it was: a secret, and a million characters (an adversarial probe)."""
    handlers = HandlerRegistry()

    @handlers.handler("work")
    def work(ctx: Any) -> None:
        raise Unreadable()

    environ = {"SYS_URL": echo, "SYS_TOKEN": SECRET}
    runtime: Runtime = lab(compile_text(AUTO), store=sqlite(tmp_path), environ=environ,
                           handlers=handlers)  # fmt: skip
    runtime.submit(lab_order("O1", runtime.catalog))  # type: ignore[arg-type]
    run_until(runtime, "O1", {"failed", "held"})
    reason = runtime.status("O1").item("L:work").reason
    assert reason == "work raised Unreadable: (its message could not be read)"
    assert_nowhere(everything(runtime, "O1"), "events/status")
    runtime.close()
    assert_store_clean(tmp_path)


# ---- short credentials ------------------------------------------------------------------------


def test_a_short_credential_is_redacted_only_where_it_stands_as_a_whole_word() -> None:
    assert redact('{"message": "no route"}', ["t"]) == '{"message": "no route"}'
    assert redact("Bearer t, token=t.", ["t"]) == "Bearer ***, token=***."
    assert redact("reserved by another order; orders: 3", ["order"]) == (
        "reserved by another ***; orders: 3"
    )
    assert redact("user=order_2 ordered", ["order"]) == "user=***_2 ordered"
    assert redact("x-p@ss-y", ["p@ss"]) == "x-***-y"
    assert redact("a 12345678 b 0123456789", ["12345678"]) == "a *** b 0***9"  # 8: everywhere


class NoRoute(http.server.BaseHTTPRequestHandler):
    """A 404 whose message holds the (one-letter) bearer token inside a word, and whole."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = (self.headers.get("Authorization") or "").split(" ", 1)[-1]
        body = json.dumps({"message": "no route", "token": token}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_one_letter_token_does_not_garble_the_reason_of_an_answer(
    lab: Any, tmp_path: Path
) -> None:
    with loopback_http(NoRoute) as server:
        environ = {"SYS_URL": url_of(server, ""), "SYS_TOKEN": "t"}
        runtime: Runtime = lab(compile_text(CATALOG), store=sqlite(tmp_path), environ=environ)
        runtime.submit(lab_order("O1", runtime.catalog, site="x"))  # type: ignore[arg-type]
        assert run_until(runtime, "O1", DONE) == "held"
    reason = runtime.status("O1").item("L:c").reason
    assert reason == (
        'Sys POST /x answered 404: {"message": "no route", "token": "***"} '
        "(a permanent status for this system: no retry)"
    )
