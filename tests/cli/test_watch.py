"""`om check --watch`: checks again after each change, until Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from om_dsl.cli import watch

GOOD = """catalog "W" version "1"
offer A { attribute speed: int }
cfs B { attribute s: int }
decompose A -> B { s = speed }
plan B on add { auto go handler "x" }
"""


def test_a_snapshot_sees_files_added_changed_and_removed(tmp_path: Path) -> None:
    (tmp_path / "a.om").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.om").write_text("y")
    (tmp_path / "notes.txt").write_text("not a catalog file")
    first = watch.snapshot([tmp_path])
    assert sorted(p.name for p in first) == ["a.om", "b.om"]
    (tmp_path / "a.om").write_text("longer")
    (tmp_path / "sub" / "b.om").unlink()
    (tmp_path / "c.om").write_text("z")
    changed = watch.changes(first, watch.snapshot([tmp_path]))
    assert [p.name for p in changed] == ["a.om", "c.om", "b.om"]


def test_hidden_folders_and_node_modules_are_not_looked_into(tmp_path: Path) -> None:
    for folder in (".venv/lib", ".git", "node_modules/x", "catalog/.cache", "catalog/common"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "a.om").write_text("x")
    found = watch.snapshot([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["catalog/common/a.om"]


def test_waiting_returns_at_the_first_change(tmp_path: Path) -> None:
    target = tmp_path / "a.om"
    target.write_text("x")
    before = watch.snapshot([tmp_path])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            target.write_text("changed")

    after, changed = watch.wait_for_change(before, [tmp_path], 0.25, sleep)
    assert sleeps == [0.25, 0.25, 0.25]
    assert changed == [target]
    assert after == watch.snapshot([tmp_path])


def test_folders_are_those_of_the_paths_each_once(tmp_path: Path) -> None:
    (tmp_path / "a.om").write_text("x")
    got = watch.folders([tmp_path / "a.om", tmp_path, tmp_path / "b.om"])
    assert got == [tmp_path.resolve()]


_CTRL_C_WORKS = (
    "import runpy, signal; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('om_dsl.cli', run_name='__main__', alter_sys=True)"
)
"""The child's entry point: `python -m om_dsl.cli`, with Ctrl-C (SIGINT) raising
KeyboardInterrupt even when the test runner was started with SIGINT ignored (a background job
of a non-interactive shell is: the child inherits that, Python then installs no handler of its
own, and the SIGINT ``stop`` sends would be lost)."""


class _Om:
    """`om check --watch` in a child process, its stderr read line by line."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CTRL_C_WORKS, "check", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.seen: list[str] = []

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"never printed {text!r}; printed:\n" + "\n".join(self.seen))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


def test_a_change_is_checked_again_until_ctrl_c(tmp_path: Path) -> None:
    shop = tmp_path / "shop.om"
    shop.write_text(GOOD)
    om = _Om(tmp_path, "shop.om", "--watch", "--interval", "0.05")
    try:
        om.wait_for("ok shop.om")
        om.wait_for("watching 1 .om file(s)")
        shop.write_text(GOOD.replace("s = speed", "s = sped"))
        om.wait_for("--- changed: shop.om; checking again")
        om.wait_for("error[E020]: unknown name 'sped'")
        om.wait_for("watching")
        shop.write_text(GOOD)
        om.wait_for("ok shop.om")
    finally:
        code = om.stop()
    rest = om.proc.stdout.read() if om.proc.stdout else ""
    assert "Traceback" not in "\n".join(om.seen) + rest
    assert code != 0  # interrupted: 130, or click's 1


def test_a_folder_without_catalogs_is_watched_until_one_appears(tmp_path: Path) -> None:
    om = _Om(tmp_path, ".", "--watch", "--interval", "0.05")
    try:
        om.wait_for("no catalog files found")
        om.wait_for("watching 0 .om file(s)")
        (tmp_path / "shop.om").write_text(GOOD)
        om.wait_for("ok shop.om")
    finally:
        om.stop()


def test_a_bad_or_lone_interval_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "shop.om").write_text(GOOD)
    for interval in ("0", "-1", "3600", "nan"):
        done = subprocess.run(
            [sys.executable, "-m", "om_dsl.cli", "check", "shop.om", "--watch", "--interval",
             interval],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, (interval, done.stderr)
        assert "Traceback" not in done.stderr
    alone = subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", "check", "shop.om", "--interval", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert alone.returncode == 2
    assert "--interval goes with --watch" in alone.stderr


def test_a_folder_named_like_a_catalog_file_is_not_a_root(tmp_path: Path) -> None:
    """`om check DIR` reads each *.om directly inside DIR for a header; a folder called
    `old.om`, or a file gone since the listing, is skipped instead of crashing the check."""
    (tmp_path / "old.om").mkdir()
    (tmp_path / "shop.om").write_text(GOOD)
    done = subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", "check", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ok shop.om" in done.stderr
