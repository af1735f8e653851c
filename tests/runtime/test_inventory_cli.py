"""`om products` and `om products show ID`: the inventory of a store, as `om orders` lists
orders (text, json, tsv; exit 5 for what is not there, 2 for a bad option)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import om
from runtime_support import Recorder, compile_text
from test_inventory import HANDLERS, LAB, done, tmf

from om_dsl.runtime import Runtime
from om_dsl.runtime.store.sqlite import SqliteStore


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("inventory") / "om.db"
    runtime = Runtime(
        compile_text(LAB), store=SqliteStore(path), handlers=Recorder().registry(HANDLERS)
    )
    with runtime:
        done(runtime, tmf("O1", "add", "P1", speed=300))
        done(runtime, tmf("O2", "add", "P2", speed=20, offer="2"))
        done(runtime, tmf("O3", "delete", "P2", speed=20, offer="2"))
    return str(path)


def test_the_list_in_each_format(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, text, _ = om(capsys, "products", "--db", db)
    assert code == 0 and "P1" in text and "terminated" in text
    code, tsv, _ = om(capsys, "products", "--db", db, "--format", "tsv")
    rows = [line.split("\t") for line in tsv.splitlines()]
    assert rows[0] == ["product", "status", "offer", "account", "since", "orders"]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [("P1", "active", "1"),
                                                      ("P2", "terminated", "2")]  # fmt: skip
    code, listed, _ = om(capsys, "products", "--db", db, "--status", "active", "--format", "json")
    assert code == 0 and [p["id"] for p in json.loads(listed)] == ["P1"]
    assert json.loads(listed)[0]["@type"] == "Product"


def test_show_one_and_what_is_not_there(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, text, _ = om(capsys, "products", "show", "P2", "--db", db)
    assert code == 0 and text.startswith("product P2: terminated")
    assert "order O3 item 1: delete" in text
    code, text, _ = om(capsys, "products", "show", "P1", "--db", db)
    assert 'site = "A"' in text and "speed = 300" in text  # JSON values, not Python's 'A'
    code, shown, _ = om(capsys, "products", "show", "P1", "--db", db, "--format", "json")
    assert {"name": "speed", "value": 300} in json.loads(shown)["productCharacteristic"]
    code, _, err = om(capsys, "products", "show", "NOPE", "--db", db)
    assert code == 5 and "no product NOPE" in err
    assert om(capsys, "products", "--db", db, "--status", "gone")[0] == 2
    missing = str(Path(db).with_name("missing.db"))
    assert om(capsys, "products", "--db", missing)[0] == 5


def test_om_run_reads_the_store_s_inventory(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "lab.om"
    catalog.write_text('catalog "Lab" version "1"\n' + LAB)
    order = tmp_path / "order.json"
    order.write_text(json.dumps(tmf("O4", "modify", "P2", speed=30, offer="2")))
    code, _, err = om(capsys, "run", str(catalog), str(order), "--db", db)
    assert code == 1 and "productOrderItem[0].product.id: error[O072]" in err
    assert om(capsys, "status", "O4", "--db", db)[0] == 5  # nothing was stored
