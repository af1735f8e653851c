"""Catalog files that are not regular UTF-8-named files, and strings that are not text.

Each is an E010 or E003 diagnostic, never an internal error, a hang or a huge read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from compiler_support import BASE, HEADER, Compile

from om_dsl.compiler.driver import compile_catalog
from om_dsl.source import Span


def _one(root: Path) -> tuple[str, str]:
    (diag,) = compile_catalog(root).diagnostics
    return diag.code, diag.message


def test_root_fifo_is_e010_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / "cat.om"
    os.mkfifo(root)
    assert _one(root) == (
        "E010",
        f"cannot read '{root}': it is a named pipe (FIFO), not a regular file",
    )


def test_imported_fifo_is_e010(om: Compile, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.om")
    diag = om('import "pipe.om"\n' + BASE).one("E010")
    assert diag.message == "cannot read 'pipe.om': it is a named pipe (FIFO), not a regular file"
    assert (diag.span.line, diag.span.col) == (2, 8)


def test_character_device_is_e010() -> None:
    code, message = _one(Path("/dev/zero"))
    assert (code, message) == (
        "E010",
        "cannot read '/dev/zero': it is a character device, not a regular file",
    )


def test_root_symlink_loop_is_e010(tmp_path: Path) -> None:
    (tmp_path / "a.om").symlink_to(tmp_path / "b.om")
    (tmp_path / "b.om").symlink_to(tmp_path / "a.om")
    code, message = _one(tmp_path / "a.om")
    assert (code, message) == (
        "E010",
        f"cannot read '{tmp_path / 'a.om'}': it is a symbolic link loop",
    )


def test_imported_symlink_loop_is_e010(om: Compile, tmp_path: Path) -> None:
    (tmp_path / "a.om").symlink_to(tmp_path / "b.om")
    (tmp_path / "b.om").symlink_to(tmp_path / "a.om")
    diag = om('import "a.om"\n' + BASE).one("E010")
    assert diag.message == "cannot read 'a.om': it is a symbolic link loop"


def test_symlink_to_a_regular_file_inside_the_root_still_works(om: Compile, tmp_path: Path) -> None:
    (tmp_path / "real.om").write_text("enum Color { Red }\n", encoding="utf-8")
    (tmp_path / "link.om").symlink_to(tmp_path / "real.om")
    assert om('import "link.om"\n' + BASE).codes == []


def test_root_file_name_that_is_not_utf8_is_e010(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/\xff.om"
    with open(raw, "wb") as handle:
        handle.write((HEADER + BASE).encode())
    result = compile_catalog(Path(os.fsdecode(raw)))
    (diag,) = result.diagnostics
    assert (diag.code, diag.message) == ("E010", "the file name '\ufffd.om' is not UTF-8")
    assert diag.span == Span("\ufffd.om", 1, 1, 1, 1)
    assert result.catalog is None


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\udc00y"])
def test_lone_surrogate_escape_is_e003(tmp_path: Path, escape: str) -> None:
    root = tmp_path / "cat.om"
    root.write_text(f'catalog "X{escape}" version "1"\n' + BASE, encoding="utf-8")
    diags = compile_catalog(root).diagnostics
    assert [(d.code, d.message) for d in diags] == [
        ("E003", "invalid escape sequence in string: a lone surrogate (\\uD800-\\uDFFF)")
    ]


def test_surrogate_pair_escape_is_one_character(tmp_path: Path) -> None:
    root = tmp_path / "cat.om"
    root.write_text('catalog "X\\ud83d\\ude00" version "1"\n' + BASE, encoding="utf-8")
    result = compile_catalog(root)
    assert result.diagnostics == [] or all(d.code.startswith("W") for d in result.diagnostics)
    assert result.raise_on_error().name == "X\U0001f600"
