"""`om render catalog|template|plan|decomposition|live`: formats, files, stdout, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from render_examples import ORDERS

from om_dsl.cli import main
from om_dsl.ir.io import dump_ir
from om_dsl.ir.models import Catalog
from om_dsl.render.sample_run import sample_run
from om_dsl.runtime.store.sqlite import SqliteStore

ACME = Path(__file__).resolve().parents[2] / "examples" / "catalog" / "acme.om"
TMF = str(ORDERS / "tmf622-product-order.json")
TRIO = str(ORDERS / "home-trio-tv.json")
_MAIN = "import sys; from om_dsl.cli import main; main(sys.argv[1:])"


def _om(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    code = done.value.code
    return code if isinstance(code, int) else 0


def test_catalog_to_stdout_is_dot(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _om("render", "catalog", str(ACME), "--focus", "Router") == 0
    assert capsysbinary.readouterr().out.startswith(b"digraph catalog {")


def test_the_output_suffix_picks_the_format(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "plan.svg"
    assert _om("render", "template", str(ACME), "AccessLine", "add", "-o", str(out)) == 0
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_format_flag_overrides_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "map.txt"
    assert _om("render", "catalog", str(ACME), "-o", str(out), "--format", "png") == 0
    assert out.read_bytes().startswith(b"\x89PNG")


def test_a_format_that_contradicts_the_suffix_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.png"
    assert _om("render", "catalog", str(ACME), "--format", "svg", "-o", str(out)) == 2
    assert "--format svg would write svg into" in capsys.readouterr().err
    assert not out.exists()
    gv = tmp_path / "map.gv"  # another name of the same format is no contradiction
    assert _om("render", "catalog", str(ACME), "--format", "dot", "-o", str(gv)) == 0


def test_ir_json_is_accepted(acme: Catalog, tmp_path: Path) -> None:
    ir_file = tmp_path / "acme.json"
    ir_file.write_text(dump_ir(acme))
    out = tmp_path / "map.dot"
    assert _om("render", "catalog", str(ir_file), "-o", str(out)) == 0
    assert out.read_text().startswith("digraph catalog {")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["catalog", "missing.om"], 1, "missing.om: no such file"),
        (["catalog", str(ACME), "--format", "gif"], 2, "unknown format 'gif'"),
        (["catalog", str(ACME), "--format", ""], 2, "unknown format ''"),  # not the default
        (["catalog", str(ACME), "--focus", "Nope"], 1, "cannot focus on 'Nope'"),
        (["template", str(ACME), "Router", "modify"], 1, "no plan for action 'modify'"),
        (["template", str(ACME), "HomeTv", "add"], 1, "not offers"),
        (["template", str(ACME), "AccessLine", "frob"], 1, "unknown action 'frob'; choose one"),
        (["catalog", str(ACME), "-o", ""], 2, "-o needs a file name"),
    ],
)
def test_errors_are_one_line_without_traceback(
    args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _om("render", *args) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_broken_catalog_prints_its_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text('catalog "B" version "1"\noffer X { attribute a: nosuchtype }\n')
    assert _om("render", "catalog", str(bad)) == 1
    err = capsys.readouterr().err
    assert "nosuchtype" in err
    assert "error(s) in the catalog" in err


def test_a_bad_ir_file_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert _om("render", "catalog", str(bad)) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_missing_graphviz_is_a_clear_error_in_a_real_process(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _MAIN,
            "render",
            "catalog",
            str(ACME),
            "-o",
            str(tmp_path / "x.svg"),
        ],
        capture_output=True,
        check=False,
        text=True,
        env={"PATH": str(empty), "PYTHONPATH": str(ACME.parents[2])},
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "apt-get install graphviz" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.svg").exists()


# ---- order views -------------------------------------------------------------------------------


def test_plan_of_an_order(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _om("render", "plan", str(ACME), TMF) == 0
    out = capsysbinary.readouterr().out.decode()
    assert out.startswith("digraph plan {")
    assert "Plan of order 30001" in out
    assert "110/MobileSubscription%3Aactivate" in out


def test_plan_collapse_to_svg(tmp_path: Path) -> None:
    out = tmp_path / "plan.svg"
    assert _om("render", "plan", str(ACME), TRIO, "--collapse", "2", "-o", str(out)) == 0
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml")
    assert "collapsed into one node each" in svg


def test_decomposition_of_an_order(tmp_path: Path) -> None:
    out = tmp_path / "d.dot"
    assert _om("render", "decomposition", str(ACME), TMF, "-o", str(out)) == 0
    text = out.read_text()
    assert text.startswith("digraph decomposition {")
    assert "shared by 120, 130" in text


def test_the_installed_base_is_drawn_as_om_plan_reads_it(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert _om("render", "plan", str(ACME), TMF) == 0
    assert b"open_account" in capsysbinary.readouterr().out  # the account line looks new
    installed = str(ACME.parents[1] / "installed-base.json")
    for view in ("plan", "decomposition"):
        assert _om("render", view, str(ACME), TMF, "--installed-base", installed) == 0
        out = capsysbinary.readouterr().out
        assert b"open_account" not in out and b"noChange" in out


def test_an_order_read_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    with open(TMF) as order:
        monkeypatch.setattr("sys.stdin", order)
        assert _om("render", "decomposition", str(ACME), "-") == 0
    assert b"Decomposition of order 30001" in capsysbinary.readouterr().out


def test_an_invalid_order_prints_its_issues_with_json_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"id": "x", "items": [{"id": "1", "product": "HomeFibre", "action": "add",'
        ' "attributes": {"speed": 5}}]}'
    )
    for view in ("plan", "decomposition"):
        assert _om("render", view, str(ACME), str(bad)) == 1
        captured = capsys.readouterr()
        assert "items[0].attributes.speed: error[O036]" in captured.err
        assert "the order is invalid: 1 problem(s)" in captured.err
        assert captured.out == ""
        assert "Traceback" not in captured.err


def test_a_missing_order_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _om("render", "plan", str(ACME), "nope.json") == 1
    err = capsys.readouterr().err
    assert "cannot read order nope.json" in err
    assert "Traceback" not in err


def test_a_negative_collapse_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert _om("render", "plan", str(ACME), TMF, "--collapse", "-1") == 2


@pytest.fixture(scope="module")
def om_db(acme: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("live") / "om.db"
    with sample_run(acme, ORDERS, SqliteStore(db)):
        pass
    return db


def test_live_from_a_store(om_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "live.svg"
    assert _om("render", "live", "ORD-1004", "--db", str(om_db), "-o", str(out)) == 0
    svg = out.read_text()
    assert "Order ORD&#45;1004: held" in svg
    assert "IN JEOPARDY" in svg


def test_live_collapsed_as_dot(om_db: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _om("render", "live", "ORD-1004", "--db", str(om_db), "--collapse", "2") == 0
    out = capsysbinary.readouterr().out.decode()
    assert '"line%3Aorder/AccessLine" [' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE"], "no order NOPE"),
        (["ORD-1004", "--db", "missing.db"], "no store at missing.db"),
    ],
)
def test_live_errors_are_one_line(
    om_db: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--db" not in args:
        args = [*args, "--db", str(om_db)]
    assert _om("render", "live", *args) == 5  # not found
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_file_that_is_no_store_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all, just text" * 100)
    assert _om("render", "live", "X", "--db", str(junk)) == 1
    err = capsys.readouterr().err
    assert "om store" in err
    assert "Traceback" not in err


CONTROLS = r"""catalog "R" version "1"
system S { url "http://127.0.0.1:9" }
/// A doc with a line break \u0007 and a bell.
offer X "a\u0001b\u0000c" { attribute a: int }
cfs L "l\u001b[31m" { attribute a: int }
decompose X -> L { a = a }
plan L on add { auto t handler "h\u0002" }
"""


@pytest.mark.parametrize(("kind", "args"), [("catalog", []), ("template", ["L", "add"])])
def test_control_characters_in_catalog_text_are_drawn_as_pictures(
    tmp_path: Path, kind: str, args: list[str]
) -> None:
    """Escapes may put control characters in catalog strings; Graphviz refused them (SVG is
    XML) and a NUL ended the DOT source early."""
    catalog = tmp_path / "c.om"
    catalog.write_text(CONTROLS, encoding="utf-8")
    dot, svg = tmp_path / "c.dot", tmp_path / "c.svg"
    assert _om("render", kind, str(catalog), *args, "-o", str(dot)) == 0
    assert _om("render", kind, str(catalog), *args, "-o", str(svg)) == 0
    text = dot.read_text(encoding="utf-8")
    assert not [c for c in text if ord(c) < 0x20 and c not in "\t\n"]
    assert {"catalog": "\u241b[31m", "template": "h\u2402"}[kind] in text
