"""`om test`: a catalog's regression cases, recorded with --update and compared afterwards."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from om_dsl import cli
from om_dsl.casebook import find_cases

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "examples" / "catalog"
ORDERS = REPO / "examples" / "orders"
EXPECTED = REPO / "examples" / "expected"


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    cli._register()


def om(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, [str(a) for a in args])


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """A catalog to edit and two orders, with their expectations recorded."""
    shutil.copytree(CATALOG, tmp_path / "catalog")
    orders = tmp_path / "orders"
    orders.mkdir()
    for name in ("fibre-modify", "home-trio-tv"):
        shutil.copy(ORDERS / f"{name}.json", orders)
    done = om("test", tmp_path / "catalog", orders, "--update")
    assert done.exit_code == 0, done.output
    assert "2 updated" in done.output
    return tmp_path


def test_the_example_orders_do_what_their_expectations_say() -> None:
    done = om("test", CATALOG, ORDERS, "--expectations", EXPECTED)
    assert done.exit_code == 0, done.output
    assert f"{len(list(ORDERS.glob('*.json')))} passed" in done.output


def test_recorded_cases_pass_until_the_catalog_changes_what_they_do(cases: Path) -> None:
    assert om("test", cases / "catalog", cases / "orders").exit_code == 0
    broadband = cases / "catalog" / "broadband.om"
    text = broadband.read_text()
    broadband.write_text("// a line that moves every span\n" + text)
    assert om("test", cases / "catalog", cases / "orders").exit_code == 0  # spans are no outcome
    broadband.write_text(text.replace("speed * 1000", "speed * 1024", 1))
    done = om("test", cases / "catalog", cases / "orders")
    assert done.exit_code == 1
    assert "FAILED fibre-modify" in done.output and "ok home-trio-tv" in done.output  # copper
    assert '-            "bandwidth_kbps": 1000000,' in done.output
    assert '+            "bandwidth_kbps": 1024000,' in done.output
    assert "1 failed" in done.output


def test_an_order_without_an_expectation_fails_and_says_how_to_record_it(cases: Path) -> None:
    shutil.copy(ORDERS / "copper-delete.json", cases / "orders")
    done = om("test", cases / "catalog", cases / "orders")
    assert done.exit_code == 1
    assert "NO EXPECTATION copper-delete: no " in done.output
    assert "record it with --update" in done.output


def test_a_refused_order_records_its_issue_codes_and_paths(tmp_path: Path) -> None:
    order = tmp_path / "slow.json"
    order.write_text(
        json.dumps({"id": "b", "items": [{"id": "1", "product": "HomeFibre",
                                          "attributes": {"speed": "fast"}}]})
    )  # fmt: skip
    assert om("test", CATALOG, order, "--update").exit_code == 0
    recorded = json.loads((tmp_path / "slow.expected.json").read_text())
    assert recorded == {
        "refused": "validation",
        "issues": [{"code": "O036", "path": "items[0].attributes.speed"}],
    }
    assert om("test", CATALOG, order).exit_code == 0


def test_expectations_can_live_apart_and_are_never_taken_for_orders(tmp_path: Path) -> None:
    nested = tmp_path / "orders" / "b2c"
    nested.mkdir(parents=True)
    shutil.copy(ORDERS / "home-duo-add.json", nested)
    (nested / "home-duo-add.expected.json").write_text("{}")
    found = find_cases([tmp_path / "orders"], tmp_path / "exp")
    assert [(c.name, c.expected) for c in found] == [
        ("b2c/home-duo-add", tmp_path / "exp" / "b2c" / "home-duo-add.expected.json")
    ]
    assert om("test", CATALOG, tmp_path / "orders", "--expectations", tmp_path / "exp",
              "--update").exit_code == 0  # fmt: skip
    assert (tmp_path / "exp" / "b2c" / "home-duo-add.expected.json").is_file()
    assert not [p for p in (tmp_path / "exp" / "b2c").iterdir() if p.name.startswith(".")]
    given = om("test", CATALOG, *sorted(nested.iterdir()))  # a shell glob names both files
    assert "FAILED home-duo-add" in given.output  # against the "{}" beside it
    assert "expected" not in given.output.splitlines()[-1]  # ... and no case of that file
    assert given.output.splitlines()[-1] == "1 failed"


def test_two_orders_of_one_name_keep_two_expectations(tmp_path: Path) -> None:
    """Two a.json of two folders had one expectation file, each run overwriting the other's:
    one of the two cases could never pass."""
    for folder, name in (("orders", "fibre-modify"), ("orders/sub", "copper-delete")):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(ORDERS / f"{name}.json", tmp_path / folder / "a.json")
    args = ("test", CATALOG, tmp_path / "orders", "--expectations", tmp_path / "exp")
    assert om(*args, "--update").exit_code == 0
    done = om(*args)
    assert done.exit_code == 0 and "ok a\n" in done.output and "ok sub/a" in done.output
    clash = om("test", CATALOG, tmp_path / "orders" / "a.json", tmp_path / "orders" / "sub",
               "--expectations", tmp_path / "exp")  # fmt: skip
    assert clash.exit_code == 2 and "would both be checked against" in clash.output


def test_a_file_that_is_no_order_is_an_error_not_a_refusal(tmp_path: Path) -> None:
    (tmp_path / "cut.json").write_text('{"id": "x", "items": [')
    done = om("test", CATALOG, tmp_path, "--update")
    assert done.exit_code == 1 and "ERROR cut: " in done.output and "is not an order" in done.output
    assert not (tmp_path / "cut.expected.json").exists()


def test_an_expectation_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "exp"
    (blocked / ".home-duo-add.expected.json.part").mkdir(parents=True)  # where it writes first
    done = om("test", CATALOG, ORDERS / "home-duo-add.json", "--expectations", blocked,
              "--update")  # fmt: skip
    assert done.exit_code == 1, done.output
    assert "ERROR home-duo-add: cannot write" in done.output


def test_an_unreadable_expectation_is_an_error_not_a_pass(cases: Path) -> None:
    (cases / "orders" / "fibre-modify.expected.json").write_bytes(b"\xff\xfe")
    done = om("test", cases / "catalog", cases / "orders")
    assert done.exit_code == 1 and "ERROR fibre-modify: cannot read" in done.output


def test_usage_errors(tmp_path: Path) -> None:
    assert om("test", CATALOG, tmp_path / "nothere").exit_code == 2
    assert om("test", CATALOG, tmp_path).exit_code == 2  # no order in it
    assert om("test", CATALOG, ORDERS, "--engine", "magic").exit_code == 2
