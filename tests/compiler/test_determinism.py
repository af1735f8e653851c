"""The IR is byte-identical across processes and hash seeds, and round-trips through load_ir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from om_dsl.compiler.driver import compile_catalog
from om_dsl.ir.io import dump_ir, load_ir

REPO = Path(__file__).resolve().parents[2]
CATALOGS = [
    REPO / "examples" / "catalog" / "acme.om",
    REPO / "tests" / "fixtures" / "valid" / "multi_file" / "main.om",
    REPO / "tests" / "fixtures" / "valid" / "map_tables" / "main.om",  # named tables
    REPO / "tests" / "fixtures" / "orders" / "family.om",  # scope root
]
SCRIPT = (
    "import sys\n"
    "from om_dsl.compiler.driver import compile_catalog\n"
    "from om_dsl.ir.io import dump_ir\n"
    "for path in sys.argv[1:]:\n"
    "    sys.stdout.write(dump_ir(compile_catalog(path).raise_on_error()))\n"
)


def compile_in_subprocess(seed: str, cwd: Path) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *map(str, CATALOGS)],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_ir_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    """Also from another working directory: spans are relative to the catalog root."""
    outputs = {seed: compile_in_subprocess(seed, REPO) for seed in ("0", "1", "2")}
    outputs["elsewhere"] = compile_in_subprocess("3", tmp_path)
    assert len(outputs["0"]) > 10_000
    assert len(set(outputs.values())) == 1


def test_in_process_ir_matches_the_subprocess(tmp_path: Path) -> None:
    here = "".join(dump_ir(compile_catalog(p).raise_on_error()) for p in CATALOGS)
    assert here.encode() == compile_in_subprocess("0", REPO)


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parent.name)
def test_ir_round_trips_through_load_ir(path: Path) -> None:
    catalog = compile_catalog(path).raise_on_error()
    text = dump_ir(catalog)
    loaded = load_ir(text)
    assert loaded == catalog
    assert loaded.content_hash == catalog.content_hash
    assert dump_ir(loaded) == text


def test_compiling_twice_in_one_process_gives_the_same_ir() -> None:
    first = dump_ir(compile_catalog(CATALOGS[0]).raise_on_error())
    second = dump_ir(compile_catalog(CATALOGS[0]).raise_on_error())
    assert first == second


def test_example_catalog_is_clean() -> None:
    result = compile_catalog(CATALOGS[0])
    assert [d.headline() for d in result.diagnostics] == []
