"""An installed base given as data (om_dsl/orders/installed_lines.py, `--installed-base`):
checked against the catalog with JSON paths, then used like any InstalledBase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from decomposition_support import ACME, decomposer, engines
from typer.testing import CliRunner

from om_dsl.cli import _register, app
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import InstalledBaseError
from om_dsl.orders.installed_lines import read_installed_lines

_register()
CATALOG = compile_catalog(ACME).raise_on_error()
ORDER = {"id": "i", "account": "1513", "items": [{"id": "t", "product": "TariffPlan"}]}


def _actions(installed: Any, engine: str = "compiled") -> dict[str, str]:
    result = decomposer(ACME, engine).decompose(ORDER, installed)
    return {line.product: line.action for line in result.lines()}


@pytest.mark.parametrize("engine", engines())
def test_an_installed_account_line_is_found_by_account_and_product(engine: str) -> None:
    installed = read_installed_lines({"1513": {"CustomerAccount": {"account": "1513"}}}, CATALOG)
    assert _actions(installed, engine)["CustomerAccount"] == "noChange"
    other = read_installed_lines({"9999": {"CustomerAccount": {"account": "9999"}}}, CATALOG)
    assert _actions(other, engine)["CustomerAccount"] == "add"
    assert installed.account_line(None, "CustomerAccount") is None  # an order without account


def test_installed_values_are_completed_like_an_order_s() -> None:
    installed = read_installed_lines({"1513": {"CustomerAccount": {}}}, CATALOG)
    assert installed.account_line("1513", "CustomerAccount") == {}  # no default to fill in
    assert _actions(installed)["CustomerAccount"] == "modify"  # account: (none) -> 1513


BAD = [
    ([], [("O080", "$")]),
    ({"1513": []}, [("O080", '["1513"]')]),
    ({"1513": {"CustomerAcount": {}}}, [("O080", '["1513"].CustomerAcount')]),
    ({"1513": {"MobileBilling": {}}}, [("O080", '["1513"].MobileBilling')]),
    ({"1513": {"CustomerAccount": 3}}, [("O080", '["1513"].CustomerAccount')]),
    ({"1513": {"CustomerAccount": {"acount": "x"}}}, [("O034", '["1513"].CustomerAccount.acount')]),
    ({"1513": {"CustomerAccount": {"account": 7}}}, [("O036", '["1513"].CustomerAccount.account')]),
    (  # every problem at once, in the order of the data
        {"b": {"Nope": {}}, "a": {"CustomerAccount": {"account": None, "x": 1}}},
        [("O080", "b.Nope"), ("O034", "a.CustomerAccount.x")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_a_bad_installed_base_gives_every_problem_with_its_path(
    data: Any, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(InstalledBaseError) as caught:
        read_installed_lines(data, CATALOG)
    assert [(i.code, i.path) for i in caught.value.issues] == expected


def test_the_messages_say_what_to_write() -> None:
    data = {"1513": {"CustomerAcount": {}, "MobileBilling": {}}}
    with pytest.raises(InstalledBaseError) as caught:
        read_installed_lines(data, CATALOG)
    assert [i.message for i in caught.value.issues] == [
        "unknown product 'CustomerAcount'; account-scoped products: CustomerAccount "
        "(did you mean 'CustomerAccount'?)",
        "MobileBilling has scope relies_on: only account-scoped lines are installed",
    ]


def test_a_null_is_named_once() -> None:
    """A null was 'got null null' (its JSON type, then its value)."""
    data = {"1513": {"CustomerAccount": None}, "1514": None}
    with pytest.raises(InstalledBaseError) as caught:
        read_installed_lines(data, CATALOG)
    assert [i.message for i in caught.value.issues] == [
        "expected an object of CustomerAccount's attributes, got null",
        "expected an object of account-scoped products, got null",
    ]


def _om(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_om_decompose_and_om_plan_read_it_from_a_file(tmp_path: Path) -> None:
    order = tmp_path / "order.json"
    order.write_text(json.dumps(ORDER), "utf-8")
    base = tmp_path / "installed.json"
    base.write_text('{"1513": {"CustomerAccount": {"account": "1513"}}}', "utf-8")
    code, out, _ = _om("decompose", ACME, order, "--installed-base", base)
    assert code == 0
    lines = {line["product"]: line for r in json.loads(out)["requests"] for line in r["lines"]}
    assert lines["CustomerAccount"]["action"] == "noChange"
    code, out, _ = _om("plan", ACME, order, "--format", "json", "--installed-base", base)
    assert code == 0
    planned = {line["id"]: line["action"] for line in json.loads(out)["lines"]}
    assert planned["account:1513/CustomerAccount"] == "noChange"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"1513": {"Nope": {}}}', "the installed base is invalid: 1 problem(s)"),
        ("{", "the installed base is not JSON"),
        (  # it took the last value without a word, where an order's is O014
            '{"1513": {"CustomerAccount": {"account": "1", "account": "2"}}}',
            "[\"1513\"].CustomerAccount.account: error[O014]: the key 'account' is given 2 times",
        ),
        ('{"1513": {"CustomerAccount": {"account": 1e400}}}', "error[O004]: inf is not a JSON"),
        (None, "cannot read the installed base"),
    ],
)
def test_a_bad_installed_base_file_stops_the_command(
    tmp_path: Path, content: str | None, says: str
) -> None:
    order = tmp_path / "order.json"
    order.write_text(json.dumps(ORDER), "utf-8")
    base = tmp_path / "installed.json"
    if content is not None:
        base.write_text(content, "utf-8")
    code, out, err = _om("decompose", ACME, order, "--installed-base", base)
    assert (code, out) == (1, "")
    assert says in err and "Traceback" not in err
