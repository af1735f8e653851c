"""Connections out of the runtime go only to checked addresses: a listener's (or a system's)
host name that resolves to a link-local, cloud metadata or unspecified address is refused when
connecting, the checked address is the one connected to (DNS rebinding), and TLS still checks
the name."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from downstream_support import compile_text, line, loopback_http, order

from om_dsl.runtime import Runtime
from om_dsl.runtime.downstream import egress
from om_dsl.runtime.downstream.http import ClientPool, TransportFailure, send, ssl_context
from om_dsl.runtime.notify import NotifySettings

Lab = Callable[..., Runtime]
SIMPLE = """
cfs Line { attribute site: string  attribute technology: string }
plan Line on add { milestone done }
"""
METADATA = "169.254.169.254"


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 and closes the connection (each request needs a new one); keeps the Host
    header of every request on its server (``server.hosts``)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def recorder(tls: ssl.SSLContext | None = None) -> Iterator[ThreadingHTTPServer]:
    with loopback_http(_Recorder) as server:
        server.hosts = []  # type: ignore[attr-defined]
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        yield server


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """A test resolver: name -> the answers of its successive look-ups (the last one stays).
    Every connection the runtime makes asks it; a name it does not know fails to resolve."""
    answers: dict[str, list[list[str]]] = {}

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        if host not in answers:
            raise OSError(f"unknown test name {host}")
        queue = answers[host]
        found = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ipaddress.ip_address(a) for a in found]

    monkeypatch.setattr(egress, "resolve", resolve)
    return answers


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hosts httpcore's socket backend is asked to connect to."""
    seen: list[str] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def spy(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        seen.append(host)
        return await real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", spy)
    return seen


def _get(url: str, verify: ssl.SSLContext | None = None) -> int:
    async def go() -> int:
        limits = httpx.Limits(max_connections=4)
        async with egress.client(5.0, limits, verify or ssl_context()) as client:
            return (await client.get(url)).status_code

    return asyncio.run(go())


def test_a_listener_name_that_resolves_to_loopback_still_receives(
    lab: Lab, dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    with recorder() as server:
        port = server.server_address[1]
        dns["listener.test"] = [["127.0.0.1"]]
        url = f"http://listener.test:{port}/events"
        runtime = lab(compile_text(SIMPLE), notify=NotifySettings(urls=(url,), poll_s=0.05))
        runtime.submit(order("O1", runtime.catalog, [line("L", site="S", technology="FTTH")]))
        runtime.run_until_idle()
        assert runtime.notifications.drain(10)
    assert server.hosts == [f"listener.test:{port}"] * 3  # the URL's Host, not the address
    assert connects == ["127.0.0.1"] * 3  # the checked address: no second resolution


@pytest.mark.parametrize(
    "answer",
    [[METADATA], ["127.0.0.1", METADATA], ["0.0.0.0"], ["::ffff:169.254.169.254"],
     ["fd00:ec2::254"], ["fe80::1"], ["100.100.100.200"]],
)  # fmt: skip
def test_a_listener_name_that_resolves_to_a_forbidden_address_is_given_up_unconnected(
    lab: Lab, dns: dict[str, list[list[str]]], connects: list[str], answer: list[str]
) -> None:
    dns["evil.test"] = [answer]
    url = "http://evil.test/hook?token=secret"
    runtime = lab(compile_text(SIMPLE), notify=NotifySettings(urls=(url,), poll_s=0.05))
    runtime.submit(order("O1", runtime.catalog, [line("L", site="S", technology="FTTH")]))
    runtime.run_until_idle()
    assert runtime.notifications.drain(10)
    assert connects == []
    listed, total = runtime.notifications.listed(state="abandoned")
    reason = listed[0].last_error or ""
    assert total == 3 and all((n.attempts, n.last_error) == (1, reason) for n in listed)
    assert reason.startswith("refused to connect to evil.test: it is ")
    assert "secret" not in reason
    details = [e.detail or "" for e in runtime.events("O1") if e.kind.startswith("notify.")]
    assert len(details) == 3 and all(d.endswith(f"{reason}; not retried") for d in details)


def test_a_metadata_name_is_refused_without_asking_dns(
    dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    with pytest.raises(egress.RefusedAddress, match="a cloud metadata service"):
        _get("http://metadata.google.internal./computeMetadata/v1/")
    assert connects == []


def test_dns_rebinding_gets_the_address_that_was_checked(
    dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    """Public (here loopback) when first asked, metadata afterwards: each connection resolves
    once, checks, and connects to what it checked; the one that resolves to metadata is
    refused, so no look-up between the check and the connection can redirect it."""
    with recorder() as server:
        port = server.server_address[1]
        dns["rebind.test"] = [["127.0.0.1"], [METADATA]]
        assert _get(f"http://rebind.test:{port}/") == 200
        with pytest.raises(egress.RefusedAddress, match=METADATA):
            _get(f"http://rebind.test:{port}/")
    assert connects == ["127.0.0.1"]
    assert server.hosts == [f"rebind.test:{port}"]


def test_the_next_address_is_tried_when_one_cannot_be_reached(
    dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    with recorder() as server:
        port = server.server_address[1]
        dns["two.test"] = [["127.0.0.2", "127.0.0.1"]]  # the server listens on 127.0.0.1 only
        assert _get(f"http://two.test:{port}/") == 200
    assert connects == ["127.0.0.2", "127.0.0.1"]


def test_a_name_that_does_not_resolve_is_a_connect_error(dns: dict[str, list[list[str]]]) -> None:
    with pytest.raises(httpx.ConnectError, match=r"cannot resolve nowhere\.test"):
        _get("http://nowhere.test/")


def test_a_callout_to_a_system_whose_name_resolves_to_metadata_is_refused(
    dns: dict[str, list[list[str]]], connects: list[str]
) -> None:
    """Callouts share the client: a catalog's system name that DNS points at the metadata
    service gets no request (whose answer could end up in order data)."""
    dns["crm.test"] = [[METADATA]]

    async def go() -> None:
        pool = ClientPool()
        client = pool.client("crm", "http://crm.test", 2.0)
        try:
            await send(client, httpx.Request("GET", "http://crm.test/latest/meta-data/"), 2.0)
        finally:
            await pool.aclose()

    with pytest.raises(TransportFailure, match=r"refused to connect to crm\.test") as failed:
        asyncio.run(go())
    assert not failed.value.unsure and connects == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``listener.test``, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=listener.test",
         "-addext", "subjectAltName=DNS:listener.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_checks_the_name_and_sends_it_as_sni(
    dns: dict[str, list[list[str]]], connects: list[str], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    names: list[str | None] = []
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    trusting = ssl.create_default_context(cafile=str(cert))
    with recorder(server_tls) as server:
        port = server.server_address[1]
        dns["listener.test"] = dns["other.test"] = [["127.0.0.1"]]
        assert _get(f"https://listener.test:{port}/", trusting) == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            _get(f"https://other.test:{port}/", trusting)  # the name, not the address, is checked
    assert names[0] == "listener.test" and "other.test" in names
    assert server.hosts == [f"listener.test:{port}"]
    assert connects == ["127.0.0.1", "127.0.0.1"]
