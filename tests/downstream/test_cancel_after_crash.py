"""A cancel of an order whose callout was in flight when its process was killed (docs/runtime.md,
"Point of no return and cancel"): the restart settles the interrupted callout first (a replay
under its idempotency key) and then undoes it, so the downstream reservation is released.

The real `om` command runs the order and is killed with SIGKILL while the inventory simulator
(127.0.0.1) holds the reservation's answer; `om cancel` and `om resume` follow, as an operator
would type them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from downstream_support import Sims, wait_until

CATALOG = """catalog "Lab" version "1"
system Inv { url env("INV_URL") timeout 5s retry fixed 100ms max 2 permanent 400 }
offer Web "Web" id "100" { attribute speed: int default 100 }
cfs Line { attribute speed: int }
decompose Web { -> Line { speed = speed } }
plan Line on add {
  callout reserve: Inv POST "/generic/reserve" request { speed: line.speed }
      response { rid = body.id } undo release
  wait go event "go" after reserve
  compensation callout release: Inv POST "/generic/release" request { rid: reserve.rid }
}
"""


def _om(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "om_dsl.cli", *map(str, args)]
    return subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=60)


def test_a_cancel_after_a_crash_undoes_the_callout_the_crash_interrupted(
    tmp_path: Path, sims: Sims
) -> None:
    (tmp_path / "lab.om").write_text(CATALOG)
    order = {"id": "O9", "items": [{"id": "1", "product": "Web"}]}
    (tmp_path / "o9.json").write_text(json.dumps(order))
    db = tmp_path / "om.db"
    env = {**os.environ, "INV_URL": sims.inventory.url}
    sims.inventory.configure(path="/generic/reserve", latency_ms=1500)
    command = [sys.executable, "-m", "om_dsl.cli", "run", "lab.om", "o9.json", "--db", str(db)]
    runner = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_until(lambda: len(sims.inventory.requests()) == 1, timeout=30)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
    cancelled = _om(env, "cancel", "O9", "--db", db)
    assert cancelled.returncode == 0, cancelled.stderr
    resumed = _om(env, "resume", "--db", db)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    status = json.loads(_om(env, "status", "O9", "--db", db, "--format", "json").stdout)
    items = {item["id"]: item for item in status["items"]}
    assert status["state"] == "cancelled"
    assert items["1/Line:reserve"]["state"] == "completed"  # the replay settled it
    assert items["1/Line:release"]["state"] == "completed"
    effects = sims.inventory.effects()
    (reserve,) = [e for e in effects if e["path"] == "/generic/reserve"]  # once: a replay
    assert [e["body"] for e in effects if e["path"] == "/generic/release"] == [
        {"rid": reserve["response"]["id"]}
    ]
