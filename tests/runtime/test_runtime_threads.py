"""Thread safety: many threads submit and act while the runtime runs in the background."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from runtime_support import Recorder, compile_text, decomposition, line

from om_dsl.runtime import LifecycleEvent, Runtime, SqliteStore

LAB = """
cfs Svc { attribute n: int }
plan Svc on add {
  auto configure handler "configure"
  auto provision handler "provision" after configure
  wait go event "go" after configure
  milestone done after provision, go
}
"""


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    return compile_text(LAB)


def wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_many_threads_submit_and_signal_while_the_runtime_runs(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(
        lab,
        store=SqliteStore(tmp_path / "om.db"),
        handlers=Recorder().registry(["configure", "provision"]),
    )
    completed: list[str] = []
    runtime.add_listener(lambda e: completed.append(e.order_id) if e.completed else None)
    runtime.start_background()
    errors: list[BaseException] = []

    def client(worker: int) -> None:
        try:
            for n in range(15):
                order_id = f"W{worker}-{n}"
                runtime.submit(decomposition(order_id, lab, [line("S", "Svc", n=n)]))
                runtime.signal("go", order_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        wait_for(lambda: len(completed) == 120)
    finally:
        runtime.stop()
    assert sorted(completed) == sorted({f"W{w}-{n}" for w in range(8) for n in range(15)})
    assert {r.state for r in runtime.orders()} == {"completed"}


def test_listener_events_arrive_in_commit_order_across_threads(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab, handlers=Recorder().registry(["configure", "provision"], inline=True))
    heard: list[LifecycleEvent] = []
    runtime.add_listener(heard.append)
    runtime.start_background()
    try:
        threads = [
            threading.Thread(
                target=lambda w=w: runtime.submit(
                    decomposition(f"O{w}", lab, [line("S", "Svc", n=w)])
                )
            )
            for w in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for w in range(10):
            runtime.signal("go", f"O{w}")
        wait_for(lambda: sum(e.completed for e in heard) == 10)
    finally:
        runtime.stop()
    seqs = [e.seq for e in heard]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_stop_and_start_again(lab) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime(lab, handlers=Recorder().registry(["configure", "provision"]))
    runtime.start_background()
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    wait_for(lambda: runtime.status("O1").state == "pending")
    runtime.stop()
    runtime.signal("go", "O1")
    runtime.start_background()
    try:
        wait_for(lambda: runtime.status("O1").state == "completed")
    finally:
        runtime.stop()
