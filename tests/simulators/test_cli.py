"""The simulator CLI's fault options reach the running servers (real loopback HTTP, httpx).

Each test starts servers the way ``python -m simulators`` does (``start_servers`` on free ports),
drives them over HTTP and checks the fault the option asked for; bad values must be a one-line
``error:`` with exit code 1 (SimConfig's validation) or 2 (argparse), never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from simulators import Listener, SimConfig, Simulator, stop_all
from simulators.cli import build_parser, main, sim_config, start_servers
from simulators.server import LoopbackServer

SUB = {"account": "ACC-0001", "product": "fiber-1g"}


@contextmanager
def serve(*argv: str) -> Iterator[dict[str, LoopbackServer]]:
    """Start the CLI's servers for ``argv`` on free ports and always stop them."""
    servers = start_servers(build_parser().parse_args([*argv, "--port", "0"]))
    try:
        yield servers
    finally:
        stop_all(servers)


@contextmanager
def system(*argv: str) -> Iterator[tuple[Simulator, httpx.Client]]:
    """One simulator target (``argv[0]``) and an httpx client bound to it."""
    with serve(*argv) as servers:
        sim = servers[argv[0]]
        assert isinstance(sim, Simulator)
        with httpx.Client(base_url=sim.url, timeout=5.0) as http:
            yield sim, http


def test_unset_options_keep_simconfig_defaults() -> None:
    assert sim_config(build_parser().parse_args(["billing"])) == {"token": None}
    with system("billing") as (sim, _):
        assert sim.config == SimConfig()


def test_status_fails_every_request_with_that_status() -> None:
    with system("billing", "--status", "409") as (sim, http):
        codes = [http.post("/accounts", json={}).status_code for _ in range(3)]
    assert codes == [409, 409, 409]
    assert sim.effects() == []


def test_fail_times_with_error_status_then_success() -> None:
    with system("billing", "--fail-times", "2", "--error-status", "502") as (sim, http):
        key = {"Idempotency-Key": "retry"}
        codes = [http.post("/subscriptions", json=SUB, headers=key).status_code for _ in range(3)]
    assert codes == [502, 502, 201]
    assert sim.effect_count("retry") == 1


def test_timeout_hangs_timeout_s_then_answers_504() -> None:
    argv = ("billing", "--timeout", "--timeout-s", "0.2", "--fail-times", "1")
    with system(*argv) as (_, http):
        started = time.monotonic()
        hung = http.post("/accounts", json={})
        waited = time.monotonic() - started
        after = http.post("/accounts", json={})
    assert (hung.status_code, hung.json()["error"]) == (504, "simulated timeout")
    assert waited >= 0.2
    assert after.status_code == 201


def test_timeout_without_timeout_s_makes_the_client_time_out() -> None:
    with system("billing", "--timeout") as (_, http), pytest.raises(httpx.ReadTimeout):
        http.post("/accounts", json={}, timeout=0.2)


def test_path_limits_faults_to_the_prefix() -> None:
    with system("inventory", "--status", "500", "--path", "/ports") as (_, http):
        assert http.post("/ports/reserve", json={"technology": "fiber"}).status_code == 500
        assert http.post("/numbers/reserve").status_code == 200


def test_after_effect_does_the_work_but_loses_the_reply() -> None:
    argv = ("billing", "--status", "502", "--fail-times", "1", "--after-effect")
    with system(*argv) as (sim, http):
        key = {"Idempotency-Key": "lost"}
        lost = http.post("/subscriptions", json=SUB, headers=key)
        retried = http.post("/subscriptions", json=SUB, headers=key)
    assert lost.status_code == 502
    assert (retried.status_code, retried.json()["id"]) == (201, "SUB-0001")
    assert sim.effect_count("lost") == 1


def test_callback_status_failed_reports_the_reason(listener: Listener) -> None:
    argv = ("billing", "--async", "--callback-delay-ms", "0", "--callback-status", "failed")
    with system(*argv, "--callback-reason", "no capacity") as (sim, http):
        headers = {"Idempotency-Key": "f", "X-Callback-Url": f"{listener.url}/cb"}
        assert http.post("/subscriptions", json=SUB, headers=headers).status_code == 202
        (event,) = listener.wait_for()
    assert event["body"] == {"status": "failed", "reason": "no capacity", "operation_id": "OP-0001"}
    assert sim.effect_count("f") == 0


def test_callback_retries_and_backoff_bound_redelivery(listener: Listener) -> None:
    listener.set_down(True)
    argv = ("network", "--async", "--callback-delay-ms", "0", "--callback-retries", "1")
    with system(*argv, "--callback-backoff-ms", "10") as (sim, http):
        http.post("/profiles", json={}, headers={"X-Callback-Url": f"{listener.url}/cb"})
        assert sim.wait_callbacks(5)
        (delivery,) = sim.callbacks()
    assert (delivery["state"], delivery["attempts"]) == ("failed", 2)
    assert listener.stats()["rejected"] == 2


def post(url: str) -> int:
    return httpx.post(url, json={}, timeout=5.0).status_code


def test_all_applies_the_faults_to_every_system_but_not_the_listener() -> None:
    with serve("all", "--status", "418") as servers:
        codes = {name: post(f"{s.url}/generic/x") for name, s in servers.items()}
    assert codes == {"billing": 418, "inventory": 418, "network": 418, "listener": 200}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["billing", "--status", "200"], "error: status must be an HTTP error status (400-599)"),
        (["all", "--error-status", "302"], "error: error_status must be an HTTP error status"),
        (["network", "--error-rate", "1.5"], "error: error_rate must be between 0 and 1"),
        (["billing", "--fail-times", "-1"], "error: fail_times must not be negative"),
        (
            ["inventory", "--timeout-s", "-1"],
            "error: timeout_s must be a finite number, not negative",
        ),
        (
            ["inventory", "--timeout-s", "inf"],
            "error: timeout_s must be a finite number, not negative",
        ),
        (
            ["billing", "--callback-retries", "-1"],
            "error: callback_retries must be a finite number, not negative",
        ),
    ],
)
def test_values_simconfig_rejects_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["billing", "--callback-status", "done"],
        ["billing", "--status", "teapot"],
        ["billing", "--timeout-s", "soon"],
    ],
)
def test_malformed_values_are_argparse_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"python -m simulators: error: argument {argv[1]}: invalid")


def test_bad_value_from_the_real_entry_point_has_no_traceback() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    done = subprocess.run(
        [sys.executable, "-m", "simulators", "billing", "--status", "200"],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(examples)},
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "error: status must be an HTTP error status (400-599)\n"
