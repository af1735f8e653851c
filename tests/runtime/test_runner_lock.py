"""One process runs a SQLite store at a time; reading and operator actions stay open."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_support import Recorder, compile_text, decomposition, line

from om_dsl.cli import main
from om_dsl.ir import models as ir
from om_dsl.runtime import MemoryStore, Runtime, SqliteStore, StoreInUse
from om_dsl.runtime.store.runner_lock import RunnerLock, runner_lock_for

LAB = """
cfs Svc { attribute n: int }
plan Svc on add {
  auto configure handler "configure"
  wait go event "go" after configure
}
"""


@pytest.fixture(scope="module")
def lab() -> ir.Catalog:
    return compile_text(LAB)


def _runtime(lab: ir.Catalog, db: Path) -> Runtime:
    return Runtime(lab, store=SqliteStore(db), handlers=Recorder().registry(["configure"]))


def test_a_second_runner_of_the_same_store_is_refused_until_the_first_stops(
    lab: ir.Catalog, tmp_path: Path
) -> None:
    db = tmp_path / "om.db"
    first, second = _runtime(lab, db), _runtime(lab, db)
    first.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    first.start_background()
    try:
        with pytest.raises(StoreInUse, match="being run by another Runtime of this process"):
            second.run_until_idle()
        with pytest.raises(StoreInUse):
            second.start_background()
        # Reading needs no lock; actions that move items are refused: the first runtime's
        # scheduler would never see them (they used to be accepted, and nothing ran).
        _until(lambda: second.status("O1").item("S:go").state == "waiting")
        for refused in (
            lambda: second.signal("go", "O1"),
            lambda: second.skip("O1", "S:go"),
            lambda: second.submit(decomposition("O2", lab, [line("S", "Svc", n=1)])),
        ):
            with pytest.raises(StoreInUse, match="act through that one"):
                refused()
        assert not second.has_order("O2")
        assert first.signal("go", "O1") == 1  # through the runtime that runs it
        _until(lambda: first.status("O1").state == "completed")
    finally:
        first.close()
    second.submit(decomposition("O2", lab, [line("S", "Svc", n=1)]))  # nobody runs it now
    second.close()


def _until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_running_until_idle_gives_the_store_back(lab: ir.Catalog, tmp_path: Path) -> None:
    db = tmp_path / "om.db"
    first = _runtime(lab, db)
    first.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    first.run_until_idle()
    other = _runtime(lab, db)
    other.run_until_idle()  # the first still exists, but it is not running
    for runtime in (first, other):
        runtime.close()


def test_memory_stores_need_no_lock(lab: ir.Catalog) -> None:
    assert runner_lock_for(MemoryStore()) is None
    assert runner_lock_for(SqliteStore(":memory:")) is None
    one = Runtime(lab, store=SqliteStore(":memory:"))
    one.start_background()
    Runtime(lab, store=SqliteStore(":memory:")).run_until_idle()
    one.close()


HOLDER = """
import sys, time
from om_dsl.runtime.store.runner_lock import RunnerLock
lock = RunnerLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _hold_in_another_process(db: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_killed_runner_leaves_the_store_free(tmp_path: Path) -> None:
    db = str(tmp_path / "om.db")
    holder = _hold_in_another_process(Path(db))
    lock = RunnerLock(db)
    try:
        with pytest.raises(StoreInUse, match=rf"\(pid {holder.pid} on "):
            lock.acquire()
        assert not lock.held
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    lock.acquire()  # the kernel released the dead process's lock
    assert lock.held
    lock.release()


def test_om_resume_on_a_store_another_process_runs_is_a_one_line_error(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "om.db"
    _runtime(lab, db).close()  # the store exists
    holder = _hold_in_another_process(db)
    try:
        with pytest.raises(SystemExit) as done:
            main(["resume", "--db", str(db)])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    err = capsys.readouterr().err
    assert done.value.code == 7  # the store is busy: try again later
    assert f"is being run by another process (pid {holder.pid}" in err
    assert "Traceback" not in err


def test_operator_actions_are_refused_beside_a_runner_and_reads_are_not(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "om.db"
    runtime = _runtime(lab, db)
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    runtime.run_until_idle()
    runtime.close()
    holder = _hold_in_another_process(db)
    try:
        codes = {}
        for argv in (["signal", "go", "--order", "O1"], ["cancel", "O1"]):
            with pytest.raises(SystemExit) as done:
                main([*argv, "--db", str(db)])
            codes[argv[0]] = done.value.code
            assert "is being run by another process" in capsys.readouterr().err
        with pytest.raises(SystemExit) as done:
            main(["status", "O1", "--db", str(db)])
        assert done.value.code == 0
        assert "S:go" in capsys.readouterr().out
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    assert codes == {"signal": 7, "cancel": 7}
    assert Runtime(store=SqliteStore(db)).status("O1").item("S:go").state == "waiting"  # untouched


def test_the_lock_stays_next_to_the_store_when_the_host_changes_folder(
    lab: ir.Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store opened as `om.db` locked `om.db.runner.lock` in whatever folder was current
    when it ran, so a second runtime in the first folder could claim the same store."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    runtime = Runtime(lab, store=SqliteStore("om.db"))
    monkeypatch.chdir(tmp_path / "elsewhere")
    runtime.claim_store()
    try:
        assert (tmp_path / "om.db.runner.lock").exists()
        assert not (tmp_path / "elsewhere" / "om.db.runner.lock").exists()
        monkeypatch.chdir(tmp_path)
        with pytest.raises(StoreInUse):
            Runtime(lab, store=SqliteStore("om.db")).claim_store()
    finally:
        runtime.close()


def test_every_spelling_of_a_store_takes_the_same_lock(
    lab: ir.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A symlink to the store (`ln -s s2/om.db alias/om.db`) locked a file of its own, so a
    second `om serve` (or `om cancel --db alias/om.db`) ran the same store beside the first,
    and every callout went out twice."""
    (tmp_path / "s2").mkdir()
    (tmp_path / "alias").mkdir()
    db = tmp_path / "s2" / "om.db"
    runtime = _runtime(lab, db)
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    runtime.close()
    alias = tmp_path / "alias" / "om.db"
    alias.symlink_to(db)
    spellings = [alias, tmp_path / "alias" / ".." / "s2" / "." / "om.db"]
    for held, others in ((db, spellings), (alias, [db])):
        holder = _hold_in_another_process(held)
        named = rf"another process \(pid {holder.pid} on "
        try:
            for spelling in others:
                other = _runtime(lab, spelling)
                try:
                    with pytest.raises(StoreInUse, match=named):
                        other.claim_store()
                finally:
                    other.close()
            with pytest.raises(SystemExit) as done:
                main(["cancel", "O1", "--db", str(others[0])])
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
        assert done.value.code == 7
        assert f"is being run by another process (pid {holder.pid} on " in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*.runner.lock")) == ["om.db.runner.lock"]
    assert (tmp_path / "s2" / "om.db.runner.lock").exists()  # next to the database file
    assert Runtime(store=SqliteStore(db)).status("O1").state == "acknowledged"  # not cancelled


SUBMITTER = """
import sys
from om_dsl import Runtime, SqliteStore, compile_catalog
catalog = compile_catalog(sys.argv[1]).raise_on_error()
runtime = Runtime(catalog, store=SqliteStore(sys.argv[2]))
for n in range(int(sys.argv[4])):
    runtime.submit({"id": f"{sys.argv[3]}-{n}", "items": [{"id": "1", "product": "Web"}]})
runtime.close()
print("submitted", flush=True)
"""

WEB = """catalog "Lab" version "1"
offer Web "Web" id "1" { attribute n: int default 1 }
cfs Svc { attribute n: int }
decompose Web { -> Svc { n = n } }
plan Svc on add {
  auto configure handler "configure"
  wait go event "go" after configure
}
"""


def test_processes_that_do_not_run_the_store_all_submit_at_once(tmp_path: Path) -> None:
    """Submits of several processes while nobody ran the store refused one another ("being
    run by another process", naming nobody): each probed by taking the runner lock."""
    db, catalog = tmp_path / "om.db", tmp_path / "web.om"
    catalog.write_text(WEB)
    submitters = [
        subprocess.Popen(
            [sys.executable, "-c", SUBMITTER, str(catalog), str(db), f"P{n}", "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(6)
    ]
    outcomes = [process.communicate(timeout=120) for process in submitters]
    assert [
        (p.returncode, out, err) for p, (out, err) in zip(submitters, outcomes, strict=True)
    ] == [(0, "submitted\n", "")] * 6
    runtime = Runtime(store=SqliteStore(db), handlers=Recorder().registry(["configure"]))
    try:
        assert len(runtime.orders()) == 240
        runtime.run_until_idle()  # they were stored for the next run, which runs them
        assert {r.state for r in runtime.orders()} == {"pending"}
    finally:
        runtime.close()


def test_a_submit_beside_a_runner_in_another_process_names_it(
    lab: ir.Catalog, tmp_path: Path
) -> None:
    db = tmp_path / "om.db"
    holder = _hold_in_another_process(db)
    runtime = _runtime(lab, db)
    try:
        with pytest.raises(StoreInUse, match=rf"another process \(pid {holder.pid} on "):
            runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    runtime.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))  # nobody runs it now
    assert runtime.has_order("O1")
    runtime.close()


def test_runtimes_of_one_process_that_do_not_run_the_store_act_from_many_threads(
    lab: ir.Catalog, tmp_path: Path
) -> None:
    """Three runtimes of one store, none running it, six threads: every submit and signal is
    stored for the next run (they refused one another as "another process", naming nobody)."""
    db = tmp_path / "om.db"
    runtimes = [_runtime(lab, db) for _ in range(3)]
    refused: list[str] = []

    def in_threads(act: Callable[[int, int], object]) -> None:
        def work(k: int) -> None:
            for n in range(40):
                try:
                    act(k, n)
                except StoreInUse as exc:
                    refused.append(str(exc))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        in_threads(
            lambda k, n: runtimes[k % 3].submit(
                decomposition(f"T{k}-{n}", lab, [line("S", "Svc", n=n)])
            )
        )
        assert refused == []
        assert len(runtimes[2].orders()) == 240
        runtimes[0].run_until_idle()  # stored for the next run
        assert {r.state for r in runtimes[2].orders()} == {"pending"}
        in_threads(lambda k, n: runtimes[k % 3].signal("go", f"T{k}-{n}"))
        runtimes[1].run_until_idle()
        assert refused == []
        assert {r.state for r in runtimes[2].orders()} == {"completed"}
    finally:
        for runtime in runtimes:
            runtime.close()


def test_a_runner_waits_for_actions_under_way_and_is_refused_at_once_by_a_runner(
    tmp_path: Path,
) -> None:
    """An action of a runtime that does not run the store holds the lock shared: a runner
    that starts meanwhile waits for its commit (else it would not load what was stored);
    another action is not held up; a second runner is refused at once, with the name."""
    db = str(tmp_path / "om.db")
    acting, other, runner, second = (RunnerLock(db) for _ in range(4))
    taken = threading.Event()
    with acting.shared():
        with other.shared():
            pass  # actions never refuse each other
        waiting = threading.Thread(target=lambda: (runner.acquire(), taken.set()))
        waiting.start()
        assert not taken.wait(0.3)
    assert taken.wait(10)
    waiting.join()
    try:
        started = time.monotonic()
        with pytest.raises(StoreInUse, match="another Runtime of this process"):
            second.acquire()
        with (
            pytest.raises(StoreInUse, match="another Runtime of this process"),
            other.shared(),
        ):
            pass
        assert time.monotonic() - started < 0.5
    finally:
        runner.release()
    with other.shared():  # the runner is gone
        pass


def test_a_runtime_acts_on_what_another_runtime_ran_since(lab: ir.Catalog, tmp_path: Path) -> None:
    """A runtime that does not run the store kept the orders it had submitted in memory: after
    another runtime ran them, its signal found no waiting item (it returned 0), and its own
    next run started the completed `configure` again."""
    db, recorder = tmp_path / "om.db", Recorder()
    submitter, runner = (
        Runtime(lab, store=SqliteStore(db), handlers=recorder.registry(["configure"]))
        for _ in range(2)
    )
    try:
        submitter.submit(decomposition("O1", lab, [line("S", "Svc", n=1)]))
        runner.run_until_idle()
        assert submitter.signal("go", "O1") == 1
        submitter.run_until_idle()
        submitter.submit(decomposition("O2", lab, [line("S", "Svc", n=2)]))
        submitter.run_until_idle()  # now the runner's memory is old
        assert runner.signal("go", "O2") == 1
        runner.run_until_idle()
        assert [runner.status(o).state for o in ("O1", "O2")] == ["completed", "completed"]
        assert recorder.attempts == {"S:configure": 2}  # once per order
    finally:
        submitter.close()
        runner.close()


def test_a_full_disk_loses_the_holders_name_not_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service restarted on a full disk got an internal error (exit 3) from writing its
    name into the lock file, instead of the store's own "disk is full" (exit 1)."""

    def full(*_: object) -> int:
        raise OSError(28, "No space left on device")

    lock = RunnerLock(str(tmp_path / "om.db"))
    monkeypatch.setattr("om_dsl.runtime.store.runner_lock.os.pwrite", full)
    lock.acquire()
    assert lock.held
    other = RunnerLock(str(tmp_path / "om.db"))
    with pytest.raises(StoreInUse):
        other.acquire()
    lock.release()
    other.acquire()  # the lock went with its holder, name or not
    other.release()
