"""The README's tour must stay true: its catalog compiles and its error output is what `om check`
prints.  Its Python example runs in tests/docs/test_python_blocks.py, with every other one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(tag: str, index: int = 0) -> str:
    blocks = re.findall(rf"```{tag}\n(.*?)```", README, re.S)
    return str(blocks[index])


def _om(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "om_dsl.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def tour(tmp_path: Path) -> Path:
    (tmp_path / "tour").mkdir()
    (tmp_path / "tour" / "shop.om").write_text(_block("om"), encoding="utf-8")
    return tmp_path


def test_the_tour_catalog_checks_clean(tour: Path) -> None:
    done = _om(["check", "tour/shop.om"], tour)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        "ok tour/shop.om: catalog 'Tour' version 1, 1 offers, 1 technical products, 1 plans"
    )


def test_the_tour_error_is_what_om_check_prints(tour: Path) -> None:
    shop = tour / "tour" / "shop.om"
    shop.write_text(shop.read_text().replace("speed * 2", "sped * 2"), encoding="utf-8")
    done = _om(["check", "tour/shop.om"], tour)
    assert done.returncode == 1
    assert done.stderr.strip() == _block("text").strip()


def test_the_tour_compiles_to_ir(tour: Path) -> None:
    done = _om(["compile", "tour/shop.om", "-o", "tour/shop.json"], tour)
    assert done.returncode == 0, done.stderr
    ir = json.loads((tour / "tour" / "shop.json").read_text())
    assert (ir["schema_version"], ir["name"]) == (1, "Tour")


def _om_lines(text: str) -> list[str]:
    """The `om ...` command lines of a document's ```sh blocks (servers and `make` aside)."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("om ")]


DOCS_OM_LINES = [
    (name, line)
    for name, text in [("README.md", README)]
    + [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "docs").glob("*.md"))]
    for line in _om_lines(text)
    if not line.startswith("om serve")  # a server: the service tests start it
]


@pytest.mark.parametrize(("doc", "line"), DOCS_OM_LINES, ids=[cmd for _, cmd in DOCS_OM_LINES])
def test_every_om_command_the_docs_show_runs(doc: str, line: str, tmp_path: Path) -> None:
    """Run where the docs assume it runs (the repository's root: the examples folder) but
    writing into a scratch folder (`-o plan.svg`)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    done = _om(line.split()[1:], tmp_path)
    assert done.returncode == 0, f"{doc}: {line}\n{done.stderr}"
