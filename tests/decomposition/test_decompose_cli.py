"""`om decompose` and `om schema order|decomposition`, end to end through the CLI."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from bad_orders import BAD_ORDERS, Bad
from decomposition_support import (
    ACME,
    EXAMPLE_ORDERS,
    FIXTURES,
    LAB,
    decomposer,
    engines,
    golden_documents,
)
from jsonschema_rs import validator_for  # installed with schemathesis, a dev dependency
from typer.testing import CliRunner

from om_dsl.cli import _register, app
from om_dsl.compiler.driver import compile_catalog
from om_dsl.errors import DecompositionError
from om_dsl.ir.io import dump_ir

_register()
RUNNER = CliRunner()
SAMPLE = EXAMPLE_ORDERS / "tmf622-product-order.json"


def om(*args: str | Path, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_json_is_the_decomposition() -> None:
    code, out, err = om("decompose", ACME, SAMPLE)
    assert code == 0, err
    data = json.loads(out)
    assert data["order_id"] == "30001"
    assert [r["id"] for r in data["requests"]] == ["fr:100", "fr:relies_on:110", "fr:account:1513"]


@pytest.mark.parametrize("engine", engines())
def test_engines_print_the_same(engine: str) -> None:
    assert om("decompose", ACME, SAMPLE, "--engine", engine)[1] == om("decompose", ACME, SAMPLE)[1]


def test_catalog_may_be_ir_json(tmp_path: Path) -> None:
    ir_file = tmp_path / "acme.json"
    ir_file.write_text(dump_ir(compile_catalog(ACME).raise_on_error()))
    assert om("decompose", ir_file, SAMPLE)[1] == om("decompose", ACME, SAMPLE)[1]


def test_catalog_may_be_the_folder_of_its_root_file() -> None:
    """As `om check FOLDER` finds roots: the folder of one root stands for that root."""
    assert om("decompose", ACME.parent, SAMPLE)[1] == om("decompose", ACME, SAMPLE)[1]
    code, out, err = om("plan", ACME.parent, SAMPLE)
    assert code == 0, err
    assert out == om("plan", ACME, SAMPLE)[1]


def test_a_folder_of_several_catalogs_is_ambiguous(tmp_path: Path) -> None:
    for name in ("b.om", "a.om"):
        (tmp_path / name).write_text(f'catalog "{name}" version "1"\n', encoding="utf-8")
    code, out, err = om("decompose", tmp_path, SAMPLE)
    assert (code, out) == (2, "")
    assert f"error: {tmp_path}: this folder holds 2 catalogs " in err
    assert f"({tmp_path / 'a.om'}, {tmp_path / 'b.om'}); name one" in err


def test_a_folder_without_a_catalog_says_what_a_root_is(tmp_path: Path) -> None:
    (tmp_path / "lib.om").write_text("enum E { A }\n", encoding="utf-8")
    code, out, err = om("decompose", tmp_path, SAMPLE)
    assert (code, out) == (1, "")
    assert f"error: {tmp_path}: no catalog root file in this folder" in err
    assert 'a root file starts with: catalog "Name" version "1"' in err
    assert "Traceback" not in err


def test_order_from_stdin() -> None:
    code, out, _ = om("decompose", ACME, "-", stdin=SAMPLE.read_bytes())
    assert code == 0 and json.loads(out)["order_id"] == "30001"


def test_table_is_readable() -> None:
    code, out, _ = om("decompose", ACME, EXAMPLE_ORDERS / "fibre-modify.json", "--format", "table")
    assert code == 0
    assert "order ORD-1002: 2 fulfillment request(s), 5 line(s)" in out
    assert "7/StaticIp" in out and "modify" in out and "bandwidth_kbps" in out
    # Written to a pipe or a file, the table is as wide as it needs: no id or value is cut.
    assert "7/InternetService/RadiusProfile" in out
    assert "bandwidth_kbps=1000000, profile=gpon-1g" in out
    assert max(len(line) for line in out.splitlines()) <= 200


def test_the_table_says_what_a_modify_changes_from_where_the_order_said_it(
    tmp_path: Path,
) -> None:
    code, out, _ = om("decompose", ACME, EXAMPLE_ORDERS / "fibre-modify.json", "--format", "table")
    assert code == 0
    assert "bandwidth_kbps (was 100000), profile (was gpon-500)" in out
    assert "max_speed (was 100)" in out
    unknown = json.loads((EXAMPLE_ORDERS / "fibre-modify.json").read_text("utf-8"))
    del unknown["items"][0]["previous"]  # what it was before is then unknown: names only
    order = tmp_path / "unknown.json"
    order.write_text(json.dumps(unknown), "utf-8")
    code, out, _ = om("decompose", ACME, order, "--format", "table")
    assert code == 0 and "bandwidth_kbps, profile" in out and "(was" not in out


def test_tmf641_payloads() -> None:
    code, out, _ = om("decompose", ACME, SAMPLE, "--format", "tmf641")
    orders = json.loads(out)
    # shared requests first: a consumer creating them in list order meets no dangling reference
    assert code == 0 and [o["externalId"] for o in orders] == [
        "30001/fr:relies_on:110",
        "30001/fr:account:1513",
        "30001/fr:100",
    ]
    item = orders[2]["serviceOrderItem"][0]
    assert item["service"]["serviceSpecification"]["id"] == "MobileSubscription"


def test_explain_says_why(tmp_path: Path) -> None:
    order = tmp_path / "o.json"
    order.write_text(
        json.dumps({"id": "x", "items": [{"id": "f", "product": "HomeFibre", "attributes": {}}]})
    )
    code, out, _ = om("decompose", ACME, order, "--format", "table", "--explain")
    assert code == 0
    assert "no match  HomeFibre->StaticIp  [" in out
    assert "the condition is false (static_ip = false)" in out
    code, out, _ = om("decompose", ACME, order, "--explain")
    verdicts = {v["rule"]: v for e in json.loads(out)["explain"] for v in e["rules"]}
    assert verdicts["HomeFibre->StaticIp"]["values"] == {"static_ip": False}


def test_explain_with_tmf641_goes_to_stderr() -> None:
    code, out, err = om("decompose", ACME, SAMPLE, "--format", "tmf641", "--explain")
    assert code == 0 and json.loads(out) and "item 110 (MobileTelephony, add)" in err


@pytest.mark.parametrize(
    "bad", [b for b in BAD_ORDERS if b.name != "ten-megabytes"], ids=lambda b: b.name
)
def test_invalid_order_prints_issues_only(bad: Bad, tmp_path: Path) -> None:
    order = tmp_path / "order.json"
    order.write_bytes(bad.raw)
    code, out, err = om("decompose", bad.catalog, order)
    assert code == 1
    assert out == ""
    assert f"error[{bad.code}]" in err
    assert "Traceback" not in err
    assert "the order is invalid" in err


def test_ten_megabytes_is_refused_before_reading(tmp_path: Path) -> None:
    order = tmp_path / "big.json"
    order.write_bytes(next(b for b in BAD_ORDERS if b.name == "ten-megabytes").raw)
    code, out, err = om("decompose", ACME, order)
    assert (code, out) == (1, "") and "error[O002]" in err


def test_merge_conflict_names_both_sources() -> None:
    code, out, err = om("decompose", LAB, FIXTURES / "golden" / "lab-site-conflict.json")
    assert (code, out) == (1, "")
    assert "error[D001]" in err and "'w1'" in err and "'w2'" in err and "Widget->Site" in err


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--engine", "drools"], 2, "unknown engine 'drools'"),
        (["--format", "xml"], 2, "unknown format 'xml'"),
    ],
)
def test_usage_errors(args: list[str], code: int, says: str) -> None:
    result = om("decompose", ACME, SAMPLE, *args)
    assert result[0] == code and says in result[2] and result[1] == ""


def test_missing_files(tmp_path: Path) -> None:
    assert om("decompose", tmp_path / "nope.om", SAMPLE)[0] == 1
    code, out, err = om("decompose", ACME, tmp_path / "nope.json")
    assert (code, out) == (1, "") and "cannot read order" in err


def test_broken_catalog_fails_cleanly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.om"
    broken.write_text('catalog "B" version "1"\noffer X { attribute a: nope }\n')
    code, out, err = om("decompose", broken, SAMPLE)
    assert (code, out) == (1, "") and "unknown type 'nope'" in err


def test_durable_unavailable_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("om_dsl.rules.durable_engine.durable_available", lambda: False)
    code, out, err = om("decompose", ACME, SAMPLE, "--engine", "durable")
    assert (code, out) == (1, "") and "Python < 3.13" in err and "--engine compiled" in err


@pytest.mark.parametrize("name", ["order", "decomposition"])
def test_schemas(name: str) -> None:
    code, out, _ = om("schema", name)
    schema = json.loads(out)
    assert code == 0 and schema["$schema"].startswith("https://json-schema.org/")
    if name == "order":
        assert schema["required"] == ["id", "items"]
        assert schema["additionalProperties"] is False


DOCUMENTS = golden_documents()


@functools.cache
def _validator(name: str) -> Any:
    """A validator for what `om schema NAME` prints (once per test run)."""
    code, out, _ = om("schema", name)
    assert code == 0
    return validator_for(json.loads(out))


@pytest.mark.parametrize(("name", "catalog", "order"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_the_schemas_describe_the_documents(name: str, catalog: Path, order: Any) -> None:
    """What `om schema order` and `om schema decomposition` print is what a host can validate
    with: every native example order passes the first, every decomposition the second."""
    if "items" in order:
        errors = [e.message for e in _validator("order").iter_errors(order)]
        assert errors == []
    try:
        result = decomposer(catalog, "compiled").decompose(order)
    except DecompositionError:
        return  # the merge-conflict fixtures: no decomposition to check
    document = json.loads(result.model_dump_json())
    assert [e.message for e in _validator("decomposition").iter_errors(document)] == []


def test_the_order_schema_rejects_what_the_reader_rejects_for_its_shape() -> None:
    """Not a schema that accepts anything: shape errors of the reader are schema errors too."""
    bad_orders: list[dict[str, Any]] = [
        {"id": "o", "items": [{"id": "1", "product": "HomeFibre", "quantity": "1"}]},
        {"id": "o", "items": [{"id": "1", "product": "HomeFibre", "colour": "red"}]},
        {"items": []},
    ]
    for bad in bad_orders:
        assert not _validator("order").is_valid(bad), bad
